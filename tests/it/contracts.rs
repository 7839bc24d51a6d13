//! The contracts in `topics/` and the schema commands, checked against what the code does.

use std::collections::BTreeSet;

use rollcall::domain::{
    AttendanceCorrection, AttendanceEvent, CORRECTION_SCHEMA_VERSION, CameraId, CorrectionKind, Embedding, FaceBox,
    PersonId, UnknownFaceEvent,
};

use crate::helpers::*;

fn schema(name: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(repo().join("topics/schemas").join(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn names(value: &serde_json::Value) -> BTreeSet<String> {
    value.as_object().unwrap().keys().cloned().collect()
}

fn required(schema: &serde_json::Value) -> BTreeSet<String> {
    schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

/// Validates `value` with the compiled schema of the declared topic, as `rollcall topics check` does.
fn assert_valid(topic: &str, value: &serde_json::Value) {
    let dir = repo().join("topics");
    let specs = rollcall::topics::load_specs(&dir).unwrap();
    let spec = specs.iter().find(|s| s.name == topic).unwrap();
    let validator = rollcall::topics::value_validator(&dir, spec).unwrap().plain.unwrap();
    let errors: Vec<String> = validator.iter_errors(value).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{topic}: {errors:?}\n{value:#}");
    // And the schema is not vacuous: breaking the value breaks validation.
    let mut broken = value.clone();
    broken["camera_id"] = serde_json::json!("Not An Id!");
    assert!(!validator.is_valid(&broken), "{topic} accepts a malformed camera id");
}

#[test]
fn emitted_events_have_exactly_the_fields_their_schemas_declare() {
    let (person, camera) = (PersonId::parse("ana").unwrap(), CameraId::parse("door").unwrap());
    let face_box = FaceBox { x: 1, y: 2, w: 3, h: 4 };
    let event = AttendanceEvent::new(
        person,
        camera.clone(),
        9,
        chrono::Utc::now(),
        0.3,
        face_box,
        "dlib_resnet_v1",
    );
    let json = serde_json::to_value(&event).unwrap();
    let attendance = schema("attendance-event.v1.json");
    assert_eq!(names(&json), names(&attendance["properties"]));
    assert_eq!(names(&json), required(&attendance));
    assert_eq!(
        json["schema_version"],
        attendance["properties"]["schema_version"]["const"]
    );
    assert_eq!(names(&json["face_box"]), required(&attendance["$defs"]["box"]));
    assert_valid("rollcall.attendance.v1", &json);

    let unknown = UnknownFaceEvent {
        schema_version: 1,
        camera_id: camera,
        frame_seq: 9,
        seen_at: chrono::Utc::now(),
        face_box,
        nearest_distance: None,
        embedding: Embedding::new(vec![0.0; 128]).unwrap(),
        model_id: "dlib_resnet_v1".into(),
        face_crop_jpeg: None,
        matched_person_id: None,
    };
    let json = serde_json::to_value(&unknown).unwrap();
    assert_valid("rollcall.unknown.v1", &json);
    let unknown_schema = schema("unknown-face.v1.json");
    assert_eq!(
        names(&json),
        required(&unknown_schema),
        "without a crop: exactly the required fields"
    );
    let with_crop = serde_json::to_value(UnknownFaceEvent {
        face_crop_jpeg: Some("/9j/4AAQ".into()),
        matched_person_id: Some(PersonId::parse("ana").unwrap()),
        ..unknown.clone()
    })
    .unwrap();
    assert_valid("rollcall.unknown.v1", &with_crop);
    assert_eq!(
        names(&with_crop),
        names(&unknown_schema["properties"]),
        "the crop and the matched person are the optional fields"
    );
    assert_eq!(
        json["embedding"].as_array().unwrap().len() as u64,
        unknown_schema["properties"]["embedding"]["minItems"]
    );
}

#[test]
fn corrections_have_exactly_the_fields_of_their_schema_under_their_record_kind() {
    let dir = repo().join("topics");
    let specs = rollcall::topics::load_specs(&dir).unwrap();
    let spec = specs.iter().find(|s| s.name == "rollcall.attendance.v1").unwrap();
    let schemas = rollcall::topics::value_validator(&dir, spec).unwrap();
    let validator = schemas.for_kind(Some("correction")).unwrap().unwrap();
    let correction_id = uuid::Uuid::new_v4();
    let correction = AttendanceCorrection {
        schema_version: CORRECTION_SCHEMA_VERSION,
        correction_id,
        correction: CorrectionKind::Addition,
        event_id: AttendanceCorrection::added_event_id(correction_id),
        person_id: PersonId::parse("ana").unwrap(),
        camera_id: CameraId::parse("manual").unwrap(),
        seen_at: chrono::Utc::now(),
        actor: "ops".into(),
        reason: "the door camera was down".into(),
        corrected_at: chrono::Utc::now(),
    };
    let json = serde_json::to_value(&correction).unwrap();
    let declared = schema("attendance-correction.v1.json");
    assert_eq!(names(&json), names(&declared["properties"]));
    assert_eq!(names(&json), required(&declared));
    let errors: Vec<String> = validator.iter_errors(&json).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let mut broken = json.clone();
    broken["reason"] = serde_json::json!("");
    assert!(!validator.is_valid(&broken), "an empty reason is refused");
    // A correction is not a sighting, and a kind the declaration does not list is reported.
    assert!(!schemas.plain.as_ref().unwrap().is_valid(&json));
    assert!(schemas.for_kind(Some("undo")).is_err());
}

#[test]
fn migrate_command_reports_applies_and_reverts() {
    let work = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = rollcall(work.path()).arg("migrate").args(args).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let before = run(&["status"]);
    assert!(before.lines().all(|l| l.starts_with("pending")), "{before}");
    assert_eq!(before.lines().count(), 14, "{before}");
    assert!(run(&["up"]).contains("is up to date"));
    assert!(run(&["status"]).lines().all(|l| l.starts_with("applied")));
    assert!(run(&["down"]).contains("reverted 1 migration(s)"));
    let after = run(&["status"]);
    assert!(
        after.contains("applied  m20261202_000013") && after.contains("pending  m20261206_000014"),
        "{after}"
    );
}
