//! Attendance events as the recognizer emits them, for tests that write them straight to a store
//! or a topic.

use chrono::{DateTime, TimeDelta, Utc};
use rollcall::domain::{AttendanceEvent, CameraId, FaceBox, PersonId};

/// A time written as RFC 3339.
pub fn at(rfc3339: &str) -> DateTime<Utc> {
    rfc3339.parse().unwrap()
}

/// `person` seen by `camera` in its frame `seq`, taken at `seen_at`.
pub fn attendance_event(person: &str, camera: &str, seq: u64, seen_at: DateTime<Utc>) -> AttendanceEvent {
    let (person, camera) = (PersonId::parse(person).unwrap(), CameraId::parse(camera).unwrap());
    AttendanceEvent::new(
        person,
        camera,
        seq,
        seen_at,
        0.3,
        FaceBox { x: 1, y: 2, w: 3, h: 4 },
        "dlib_resnet_v1",
    )
}

/// `person` at the door in frame `seq`, `seq` seconds after 08:00 UTC on 2026-11-22.
pub fn door_event(person: &str, seq: u64) -> AttendanceEvent {
    let seen_at = at("2026-11-22T08:00:00Z") + TimeDelta::seconds(seq as i64);
    attendance_event(person, "door", seq, seen_at)
}

/// `person` seen by `camera` at `seen_at` (RFC 3339), in a frame numbered by its time.
pub fn event_at(person: &str, camera: &str, seen_at: &str) -> AttendanceEvent {
    let seen_at = at(seen_at);
    attendance_event(person, camera, seen_at.timestamp_millis() as u64, seen_at)
}
