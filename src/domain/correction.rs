//! Attendance corrections: a wrong mark retracted or a missed one added by hand, with who and
//! why. They travel on the attendance topic beside the sightings, so the log stays append-only
//! and a replay folds them again.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::event::{EVENT_ID_NAMESPACE, InvalidEvent, Validate};
use super::{AttendanceEvent, CameraId, FaceBox, PersonId};

/// Version of the correction layout; consumers reject versions they do not know.
pub const CORRECTION_SCHEMA_VERSION: u16 = 1;
/// The most characters of an actor: the audit log's column.
pub const MAX_ACTOR_CHARS: usize = 100;
/// The model id of an added event: no model saw it.
pub const MANUAL_MODEL_ID: &str = "manual";
/// The camera of an added event when the person doing it names none.
pub const MANUAL_CAMERA: &str = "manual";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CorrectionKind {
    /// A stored attendance event is taken back: it no longer counts anywhere.
    Retraction,
    /// An attendance event no camera produced (a forgotten face, a camera that was down).
    Addition,
}

impl CorrectionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CorrectionKind::Retraction => "retraction",
            CorrectionKind::Addition => "addition",
        }
    }
}

/// A correction of the attendance record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttendanceCorrection {
    pub schema_version: u16,
    /// Chosen when the correction is made; folding the same id again changes nothing.
    pub correction_id: Uuid,
    pub correction: CorrectionKind,
    /// A retraction: the event taken back. An addition: the event it adds (`added_event_id`).
    pub event_id: Uuid,
    /// The event's person, camera and time (for a retraction, copied from the event, so the
    /// fold finds its day even when the retraction is folded before the event itself).
    pub person_id: PersonId,
    pub camera_id: CameraId,
    pub seen_at: DateTime<Utc>,
    pub actor: String,
    pub reason: String,
    pub corrected_at: DateTime<Utc>,
}

impl AttendanceCorrection {
    /// The id of the event an addition adds: UUID v5 of its correction id, so it never meets a
    /// camera's event id (those name a camera, a frame and a person).
    pub fn added_event_id(correction_id: Uuid) -> Uuid {
        Uuid::new_v5(&EVENT_ID_NAMESPACE, format!("manual/{correction_id}").as_bytes())
    }

    /// The event an addition adds, as the store keeps attendance events; for a retraction, the
    /// event it takes back as far as the correction knows it (id, person, camera and time).
    pub fn as_event(&self) -> AttendanceEvent {
        AttendanceEvent {
            schema_version: super::ATTENDANCE_SCHEMA_VERSION,
            event_id: self.event_id,
            person_id: self.person_id.clone(),
            camera_id: self.camera_id.clone(),
            frame_seq: 0,
            seen_at: self.seen_at,
            distance: 0.0,
            similarity: 1.0,
            face_box: FaceBox { x: 0, y: 0, w: 0, h: 0 },
            model_id: MANUAL_MODEL_ID.to_owned(),
        }
    }
}

impl Validate for AttendanceCorrection {
    fn validate(&self) -> Result<(), InvalidEvent> {
        if self.schema_version != CORRECTION_SCHEMA_VERSION {
            return Err(InvalidEvent::SchemaVersion(self.schema_version));
        }
        if self.correction == CorrectionKind::Addition {
            let expected = Self::added_event_id(self.correction_id);
            if expected != self.event_id {
                return Err(InvalidEvent::EventId {
                    expected,
                    actual: self.event_id,
                });
            }
        }
        let actor = self.actor.chars().count();
        if actor == 0 || actor > MAX_ACTOR_CHARS || self.actor.chars().any(char::is_control) {
            return Err(InvalidEvent::Correction(format!(
                "actor must have 1 to {MAX_ACTOR_CHARS} characters and no control character"
            )));
        }
        super::text::checked_name("reason", &self.reason, false).map_err(InvalidEvent::Correction)?;
        for at in [self.seen_at, self.corrected_at] {
            if !super::dates::supported_time(at) {
                return Err(InvalidEvent::SeenAt(at));
            }
        }
        Ok(())
    }
}

/// A record of the attendance topic: a camera's sighting, or a correction.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum AttendanceRecord {
    Sighting(AttendanceEvent),
    Correction(AttendanceCorrection),
}

impl AttendanceRecord {
    /// The id in logs and dead-letter reasons: the event's, or the correction's.
    pub fn id(&self) -> Uuid {
        match self {
            AttendanceRecord::Sighting(e) => e.event_id,
            AttendanceRecord::Correction(c) => c.correction_id,
        }
    }
}

impl Validate for AttendanceRecord {
    fn validate(&self) -> Result<(), InvalidEvent> {
        match self {
            AttendanceRecord::Sighting(e) => e.validate(),
            AttendanceRecord::Correction(c) => c.validate(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addition() -> AttendanceCorrection {
        let correction_id = Uuid::from_u128(7);
        AttendanceCorrection {
            schema_version: CORRECTION_SCHEMA_VERSION,
            correction_id,
            correction: CorrectionKind::Addition,
            event_id: AttendanceCorrection::added_event_id(correction_id),
            person_id: PersonId::parse("obama").unwrap(),
            camera_id: CameraId::parse(MANUAL_CAMERA).unwrap(),
            seen_at: "2026-11-22T08:00:00Z".parse().unwrap(),
            actor: "api:staff".into(),
            reason: "the door camera was down".into(),
            corrected_at: "2026-11-22T09:00:00Z".parse().unwrap(),
        }
    }

    #[test]
    fn a_correction_round_trips_and_is_checked() {
        let c = addition();
        let json = serde_json::to_string(&c).unwrap();
        assert!(json.contains(r#""correction":"addition""#));
        assert_eq!(serde_json::from_str::<AttendanceCorrection>(&json).unwrap(), c);
        assert_eq!(c.validate(), Ok(()));
        let added = c.as_event();
        assert_eq!((added.event_id, added.model_id.as_str()), (c.event_id, MANUAL_MODEL_ID));
    }

    #[test]
    fn an_addition_with_another_event_id_or_no_reason_is_refused() {
        let mut c = addition();
        c.event_id = Uuid::from_u128(8);
        assert!(matches!(c.validate(), Err(InvalidEvent::EventId { .. })));
        let mut c = addition();
        c.reason = "  ".into();
        assert!(matches!(c.validate(), Err(InvalidEvent::Correction(_))));
        let mut c = addition();
        c.actor = "a\nb".into();
        assert!(matches!(c.validate(), Err(InvalidEvent::Correction(_))));
        // A retraction names the event it takes back, whatever its id.
        let mut c = addition();
        c.correction = CorrectionKind::Retraction;
        c.event_id = Uuid::from_u128(8);
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn added_event_ids_are_not_camera_event_ids() {
        let c = addition();
        let camera_id = AttendanceEvent::id_for(&c.camera_id, 0, &c.person_id);
        assert_ne!(c.event_id, camera_id);
        assert_ne!(c.event_id, AttendanceCorrection::added_event_id(Uuid::from_u128(9)));
    }
}
