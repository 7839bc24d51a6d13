//! Unknown-face events, the JSON values of `rollcall.unknown.v1`: a face that matched nobody in
//! the gallery (or was matched with low confidence), with the id the review loop keeps it under.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::event::{EVENT_ID_NAMESPACE, Validate, check_model_id};
use super::{ATTENDANCE_SCHEMA_VERSION, CameraId, Embedding, FaceBox, InvalidEvent};

/// The largest face crop accepted, decoded: the schema's 40,000 base64 characters (a 160 px JPEG
/// is a few kilobytes).
pub const MAX_FACE_CROP_BYTES: usize = 30_000;

/// A face that matched nobody in the gallery. Carries the embedding (biometric data: short retention).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnknownFaceEvent {
    pub schema_version: u16,
    pub camera_id: CameraId,
    pub frame_seq: u64,
    pub seen_at: DateTime<Utc>,
    pub face_box: FaceBox,
    /// Distance to the nearest template, if the gallery is not empty.
    pub nearest_distance: Option<f32>,
    pub embedding: Embedding,
    pub model_id: String,
    /// The face aligned as the recognizer saw it, a JPEG of at most 160 px a side in base64,
    /// for the people who review unknown faces (track mode: the track's best face).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub face_crop_jpeg: Option<String>,
    /// A low-confidence match rather than an unknown face: the person it was accepted as, within
    /// `review.match_margin` of the threshold (`nearest_distance` is the match's distance).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matched_person_id: Option<super::PersonId>,
}

impl UnknownFaceEvent {
    /// The deterministic id of the face: UUID v5 of its natural key, camera, frame and box, so a
    /// redelivered event is the same face (in track mode the frame is the track's first).
    pub fn face_id(&self) -> Uuid {
        let FaceBox { x, y, w, h } = self.face_box;
        let name = format!("unknown/{}/{}/{x},{y},{w},{h}", self.camera_id, self.frame_seq);
        Uuid::new_v5(&EVENT_ID_NAMESPACE, name.as_bytes())
    }

    /// The face crop's JPEG bytes, if the event has one.
    pub fn crop_bytes(&self) -> Result<Option<Vec<u8>>, InvalidEvent> {
        let Some(encoded) = &self.face_crop_jpeg else {
            return Ok(None);
        };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|e| InvalidEvent::FaceCrop(format!("not base64: {e}")))?;
        if bytes.len() > MAX_FACE_CROP_BYTES {
            return Err(InvalidEvent::FaceCrop(format!(
                "{} bytes, over {MAX_FACE_CROP_BYTES}",
                bytes.len()
            )));
        }
        if !bytes.starts_with(&[0xFF, 0xD8]) {
            return Err(InvalidEvent::FaceCrop("not a JPEG".into()));
        }
        Ok(Some(bytes))
    }

    /// Checks what serde cannot, so that storing a batch never fails on one event's data.
    pub fn validate(&self) -> Result<(), InvalidEvent> {
        if self.schema_version != ATTENDANCE_SCHEMA_VERSION {
            return Err(InvalidEvent::SchemaVersion(self.schema_version));
        }
        if let Some(d) = self.nearest_distance
            && !(d.is_finite() && d >= 0.0)
        {
            return Err(InvalidEvent::NearestDistance(d));
        }
        check_model_id(&self.model_id)?;
        if i64::try_from(self.frame_seq).is_err() {
            return Err(InvalidEvent::FrameSeq(self.frame_seq));
        }
        if !super::dates::supported_time(self.seen_at) {
            return Err(InvalidEvent::SeenAt(self.seen_at));
        }
        self.crop_bytes().map(|_| ())
    }
}

impl Validate for UnknownFaceEvent {
    fn validate(&self) -> Result<(), InvalidEvent> {
        UnknownFaceEvent::validate(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> UnknownFaceEvent {
        UnknownFaceEvent {
            schema_version: ATTENDANCE_SCHEMA_VERSION,
            camera_id: CameraId::parse("door").unwrap(),
            frame_seq: 7,
            seen_at: "2026-11-22T08:00:00Z".parse().unwrap(),
            face_box: FaceBox { x: 1, y: 2, w: 3, h: 4 },
            nearest_distance: Some(0.7),
            embedding: Embedding::new(vec![0.5; 128]).unwrap(),
            model_id: "dlib_resnet_v1".into(),
            face_crop_jpeg: Some(base64::engine::general_purpose::STANDARD.encode([0xFF, 0xD8, 0xFF, 0xD9])),
            matched_person_id: None,
        }
    }

    #[test]
    fn the_face_id_follows_camera_frame_and_box_only() {
        let e = event();
        let mut later = e.clone();
        later.nearest_distance = None;
        later.face_crop_jpeg = None;
        assert_eq!(e.face_id(), later.face_id(), "the same face delivered again");
        let mut other_box = e.clone();
        other_box.face_box.x = 2;
        assert_ne!(e.face_id(), other_box.face_id());
        let mut other_frame = e.clone();
        other_frame.frame_seq = 8;
        assert_ne!(e.face_id(), other_frame.face_id());
    }

    #[test]
    fn validation_refuses_what_the_store_cannot_keep() {
        assert_eq!(event().validate(), Ok(()));
        let mut e = event();
        e.nearest_distance = Some(f32::NAN);
        assert!(matches!(e.validate(), Err(InvalidEvent::NearestDistance(_))));
        let mut e = event();
        e.face_crop_jpeg = Some("not base64!".into());
        assert!(matches!(e.validate(), Err(InvalidEvent::FaceCrop(_))));
        let mut e = event();
        e.face_crop_jpeg = Some(base64::engine::general_purpose::STANDARD.encode(b"GIF89a"));
        assert!(matches!(e.validate(), Err(InvalidEvent::FaceCrop(_))));
        let mut e = event();
        e.model_id = String::new();
        assert_eq!(e.validate(), Err(InvalidEvent::ModelId(0)));
    }
}
