//! Attendance events, the JSON values of `rollcall.attendance.v1`, and the reasons an event is refused.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{CameraId, PersonId};

/// Version of the attendance event layout; consumers reject versions they do not know.
pub const ATTENDANCE_SCHEMA_VERSION: u16 = 1;

/// Namespace of rollcall's v5 event ids; fixed forever so ids stay stable across releases.
pub(super) const EVENT_ID_NAMESPACE: Uuid = Uuid::from_u128(0x6c7a_1f0e_9b3d_4c2a_8e51_07d4_a9f2_3b6e);

/// A face box in source-frame pixels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FaceBox {
    pub x: i32,
    pub y: i32,
    pub w: i32,
    pub h: i32,
}

/// A known person seen by a camera.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttendanceEvent {
    pub schema_version: u16,
    pub event_id: Uuid,
    pub person_id: PersonId,
    pub camera_id: CameraId,
    pub frame_seq: u64,
    pub seen_at: DateTime<Utc>,
    /// L2 distance to the closest template of the person.
    pub distance: f32,
    /// 1 - distance/2, in [0, 1], for people and dashboards.
    pub similarity: f32,
    pub face_box: FaceBox,
    pub model_id: String,
}

/// Why an event cannot be projected; such an event is dead-lettered, never retried.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum InvalidEvent {
    #[error("unsupported schema_version {0} (this build reads {ATTENDANCE_SCHEMA_VERSION})")]
    SchemaVersion(u16),
    #[error("event_id {actual} does not match camera, frame and person (expected {expected})")]
    EventId { expected: Uuid, actual: Uuid },
    #[error("distance {0} is not a finite non-negative number")]
    Distance(f32),
    #[error("similarity {0} is not a number from 0 to 1")]
    Similarity(f32),
    #[error("model_id must have 1 to {MAX_MODEL_ID_LEN} characters and no NUL (has {0})")]
    ModelId(usize),
    #[error("frame_seq {0} is over {max}", max = i64::MAX)]
    FrameSeq(u64),
    #[error("nearest_distance {0} is not a finite non-negative number")]
    NearestDistance(f32),
    #[error("face_crop_jpeg: {0}")]
    FaceCrop(String),
    #[error("{0}")]
    Correction(String),
    #[error("seen_at {0} is outside the supported dates ({from} to {to})", from = super::dates::EARLIEST_DAY, to = super::dates::LATEST_DAY)]
    SeenAt(DateTime<Utc>),
}

/// An event whose every field is checked against what the store can keep, so that a batch never
/// fails on one event's data: the decoder and the projector refuse it instead (dead letter).
pub trait Validate {
    fn validate(&self) -> Result<(), InvalidEvent>;
}

impl Validate for AttendanceEvent {
    fn validate(&self) -> Result<(), InvalidEvent> {
        AttendanceEvent::validate(self)
    }
}

/// The longest model id: the store's column.
pub const MAX_MODEL_ID_LEN: usize = 64;

/// A model id fits its column in the store.
pub(super) fn check_model_id(model_id: &str) -> Result<(), InvalidEvent> {
    let len = model_id.chars().count();
    if len == 0 || len > MAX_MODEL_ID_LEN || model_id.contains('\0') {
        return Err(InvalidEvent::ModelId(len));
    }
    Ok(())
}

impl AttendanceEvent {
    /// An event of the current schema, with its deterministic id and the similarity derived from the distance.
    pub fn new(
        person_id: PersonId,
        camera_id: CameraId,
        frame_seq: u64,
        seen_at: DateTime<Utc>,
        distance: f32,
        face_box: FaceBox,
        model_id: impl Into<String>,
    ) -> Self {
        AttendanceEvent {
            schema_version: ATTENDANCE_SCHEMA_VERSION,
            event_id: Self::id_for(&camera_id, frame_seq, &person_id),
            person_id,
            camera_id,
            frame_seq,
            seen_at,
            distance,
            similarity: super::similarity_from_distance(distance),
            face_box,
            model_id: model_id.into(),
        }
    }

    /// The deterministic id: UUID v5 of camera id, frame sequence and person id.
    pub fn id_for(camera: &CameraId, frame_seq: u64, person: &PersonId) -> Uuid {
        let name = format!("{camera}/{frame_seq}/{person}");
        Uuid::new_v5(&EVENT_ID_NAMESPACE, name.as_bytes())
    }

    /// Checks what serde cannot: the version, the id derivation, the numbers, and that every
    /// field fits its column in the store (so that a batch never fails on one event's data).
    pub fn validate(&self) -> Result<(), InvalidEvent> {
        if self.schema_version != ATTENDANCE_SCHEMA_VERSION {
            return Err(InvalidEvent::SchemaVersion(self.schema_version));
        }
        let expected = Self::id_for(&self.camera_id, self.frame_seq, &self.person_id);
        if expected != self.event_id {
            return Err(InvalidEvent::EventId {
                expected,
                actual: self.event_id,
            });
        }
        if !(self.distance.is_finite() && self.distance >= 0.0) {
            return Err(InvalidEvent::Distance(self.distance));
        }
        if !(0.0..=1.0).contains(&self.similarity) {
            return Err(InvalidEvent::Similarity(self.similarity));
        }
        check_model_id(&self.model_id)?;
        if i64::try_from(self.frame_seq).is_err() {
            return Err(InvalidEvent::FrameSeq(self.frame_seq));
        }
        if !super::dates::supported_time(self.seen_at) {
            return Err(InvalidEvent::SeenAt(self.seen_at));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> AttendanceEvent {
        AttendanceEvent::new(
            PersonId::parse("obama").unwrap(),
            CameraId::parse("door").unwrap(),
            7,
            "2026-11-22T08:00:00Z".parse().unwrap(),
            0.3,
            FaceBox { x: 1, y: 2, w: 3, h: 4 },
            "dlib_resnet_v1",
        )
    }

    #[test]
    fn event_id_is_deterministic_and_distinct() {
        let c = CameraId::parse("door").unwrap();
        let p = PersonId::parse("obama").unwrap();
        assert_eq!(AttendanceEvent::id_for(&c, 1, &p), AttendanceEvent::id_for(&c, 1, &p));
        assert_ne!(AttendanceEvent::id_for(&c, 1, &p), AttendanceEvent::id_for(&c, 2, &p));
        let p2 = PersonId::parse("biden").unwrap();
        assert_ne!(AttendanceEvent::id_for(&c, 1, &p), AttendanceEvent::id_for(&c, 1, &p2));
        // Without separators, camera "door1" at frame 1 and camera "door" at frame 11 would both
        // give "door11x", as would frame 1 of person "1x" and frame 11 of person "x".
        let door1 = CameraId::parse("door1").unwrap();
        let (x, one_x) = (PersonId::parse("x").unwrap(), PersonId::parse("1x").unwrap());
        assert_ne!(
            AttendanceEvent::id_for(&door1, 1, &x),
            AttendanceEvent::id_for(&c, 11, &x)
        );
        assert_ne!(
            AttendanceEvent::id_for(&c, 1, &one_x),
            AttendanceEvent::id_for(&c, 11, &x)
        );
        // The separator cannot occur inside an id, so no other split of the name exists.
        assert!(CameraId::parse("door/1").is_err() && PersonId::parse("1/x").is_err());
    }

    #[test]
    fn json_round_trip_and_validation() {
        let e = event();
        let json = serde_json::to_string(&e).unwrap();
        let back: AttendanceEvent = serde_json::from_str(&json).unwrap();
        assert_eq!(back, e);
        assert_eq!(back.validate(), Ok(()));
    }

    #[test]
    fn validation_catches_tampering() {
        let mut e = event();
        e.frame_seq = 8;
        assert!(matches!(e.validate(), Err(InvalidEvent::EventId { .. })));
        let mut e = event();
        e.schema_version = 99;
        assert_eq!(e.validate(), Err(InvalidEvent::SchemaVersion(99)));
        let mut e = event();
        e.distance = f32::NAN;
        assert!(matches!(e.validate(), Err(InvalidEvent::Distance(_))));
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let mut v = serde_json::to_value(event()).unwrap();
        v["extra"] = 1.into();
        assert!(serde_json::from_value::<AttendanceEvent>(v).is_err());
    }
}
