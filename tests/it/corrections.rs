//! Attendance corrections: retractions and additions folded idempotently and in any order on
//! both stores; and, end to end over Kafka and the API, changing the day list and the session
//! report, surviving a replay into an empty store, and audited.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::StatusCode;
use rollcall::bus::Bus;
use rollcall::bus::kafka::KafkaBus;
use rollcall::domain::{
    AttendanceCorrection, AttendanceEvent, AttendanceRecord, CORRECTION_SCHEMA_VERSION, CorrectionKind,
};
use rollcall::store::Store;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::*;

fn correction(kind: CorrectionKind, event: &AttendanceEvent, n: u128) -> AttendanceCorrection {
    let correction_id = Uuid::from_u128(n);
    let event_id = match kind {
        CorrectionKind::Retraction => event.event_id,
        CorrectionKind::Addition => AttendanceCorrection::added_event_id(correction_id),
    };
    AttendanceCorrection {
        schema_version: CORRECTION_SCHEMA_VERSION,
        correction_id,
        correction: kind,
        event_id,
        person_id: event.person_id.clone(),
        camera_id: event.camera_id.clone(),
        seen_at: event.seen_at,
        actor: "ops".into(),
        reason: "checked against the register".into(),
        corrected_at: at("2026-11-22T18:00:00Z"),
    }
}

/// (person, first seen, last seen, events) per day row.
async fn days(store: &Store) -> Vec<(String, String, String, i64)> {
    store
        .attendance_days()
        .await
        .unwrap()
        .into_iter()
        .map(|d| {
            (
                d.person_id,
                d.first_seen.to_rfc3339(),
                d.last_seen.to_rfc3339(),
                d.events,
            )
        })
        .collect()
}

async fn corrections_case(store: &Store, fresh: &Store) {
    let early = attendance_event("obama", "door", 1, at("2026-11-22T08:00:00Z"));
    let late = attendance_event("obama", "hall", 2, at("2026-11-22T12:00:00Z"));
    let biden = attendance_event("biden", "door", 3, at("2026-11-22T09:00:00Z"));
    let missed = attendance_event("biden", "manual", 0, at("2026-11-22T07:30:00Z"));
    let retraction = correction(CorrectionKind::Retraction, &early, 1);
    let addition = correction(CorrectionKind::Addition, &missed, 2);
    let sightings: Vec<AttendanceRecord> = [&early, &late, &biden]
        .map(|e| AttendanceRecord::Sighting(e.clone()))
        .into();
    let corrections = vec![
        AttendanceRecord::Correction(retraction.clone()),
        AttendanceRecord::Correction(addition.clone()),
    ];

    store.write_attendance_records(&sightings).await.unwrap();
    let outcome = store.write_attendance_records(&corrections).await.unwrap();
    assert_eq!((outcome.inserted, outcome.retracted), (1, 1), "{outcome:?}");
    let expected = vec![
        (
            "biden".to_owned(),
            at("2026-11-22T07:30:00Z").to_rfc3339(),
            at("2026-11-22T09:00:00Z").to_rfc3339(),
            2,
        ),
        (
            "obama".to_owned(),
            at("2026-11-22T12:00:00Z").to_rfc3339(),
            at("2026-11-22T12:00:00Z").to_rfc3339(),
            1,
        ),
    ];
    assert_eq!(days(store).await, expected);
    assert!(store.attendance_event(early.event_id).await.unwrap().is_none());
    assert!(store.is_retracted(early.event_id).await.unwrap());

    // Delivered again, with the retracted event itself: nothing changes, and each correction is
    // audited once.
    let again: Vec<AttendanceRecord> = corrections.iter().chain(&sightings).cloned().collect();
    let outcome = store.write_attendance_records(&again).await.unwrap();
    assert_eq!((outcome.inserted, outcome.retracted), (0, 1), "{outcome:?}");
    assert_eq!(days(store).await, expected);
    let audit = store.audit_entries("obama").await.unwrap();
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(
        (audit[0].id, audit[0].action.as_str(), audit[0].actor.as_str()),
        (retraction.correction_id, "attendance.retracted", "ops")
    );
    assert_eq!(audit[0].details["reason"], "checked against the register");
    let audit = store.audit_entries("biden").await.unwrap();
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0].action, "attendance.added");

    // The corrections before the events they correct, one record a batch: the same rows.
    for record in corrections.iter().chain(&sightings) {
        fresh
            .write_attendance_records(std::slice::from_ref(record))
            .await
            .unwrap();
    }
    assert_eq!(days(fresh).await, expected);
    assert_eq!(events_as_seen(fresh).await, events_as_seen(store).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrections_fold_once_and_in_any_order_on_both_stores() {
    let (a, b) = (TestDatabase::create().await, TestDatabase::create().await);
    corrections_case(
        &Store::open(&a.url, 2).await.unwrap(),
        &Store::open(&b.url, 2).await.unwrap(),
    )
    .await;
    a.drop_now().await;
    b.drop_now().await;
    let (x, y) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    corrections_case(
        &Store::open(&config(x.path()).store.url, 1).await.unwrap(),
        &Store::open(&config(y.path()).store.url, 1).await.unwrap(),
    )
    .await;
}

/// Polls `report` of maths until `check` holds.
async fn report_until(api: &Api, check: impl Fn(&BTreeMap<String, String>) -> bool) -> serde_json::Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let report = api.report("maths", "2026-11-20").await;
        if check(&statuses(&report)) {
            return report;
        }
        assert!(std::time::Instant::now() < deadline, "{report}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retraction_and_an_addition_change_the_report_survive_a_replay_and_are_audited() {
    let kafka = TestKafka::start().await;
    let work = tempfile::tempdir().unwrap();
    let on_kafka = kafka.config(work.path());
    let api = Api::start_with(|c| {
        c.bus = on_kafka.bus.clone();
        c.kafka = on_kafka.kafka.clone();
    })
    .await;
    kafka.create_topics(&api.config, 3).await;
    api.enrol_people(&CLASS_ENROLMENT).await;
    class_with_maths(&api).await;
    // Obama on time and to the end; Kit leaves an hour early; Rose is not seen (her camera was
    // down). Recognized from other photos, sent on the attendance topic, projected from Kafka.
    let frames = [
        ("door-in", "2026-11-20T07:57:00Z", "face_recognition/obama/obama2.jpg"),
        ("door-out", "2026-11-20T10:02:00Z", "face_recognition/obama/obama3.jpg"),
        (
            "door-in",
            "2026-11-20T07:50:00Z",
            "face_recognition/kit_harington/john2.jpeg",
        ),
        (
            "door-out",
            "2026-11-20T09:00:00Z",
            "face_recognition/kit_harington/john2.jpeg",
        ),
    ]
    .map(|(camera, time, photo)| frame_at(camera, at(time), photo));
    let gallery = rollcall::recognize::SharedGallery::new(
        rollcall::recognize::load_gallery(&api.store, "dlib_resnet_v1")
            .await
            .unwrap(),
    );
    let events = recognize_once(&gallery, None, &frames).await;
    assert_eq!(events.len(), 4, "{events:?}");
    let topic = KafkaBus::new(&api.config.kafka).attendance_producer().unwrap();
    for e in &events {
        topic.send(e.person_id.as_str(), e.clone()).await.unwrap();
    }
    let shutdown = tokio_util::sync::CancellationToken::new();
    let projector = spawn_project(&api.config, &shutdown);
    let before = report_until(&api, |s| s.get("kit").is_some_and(|k| k == "left_early")).await;
    assert_eq!(statuses(&before)["rose"], "absent", "{before}");
    assert_eq!(statuses(&before)["obama"], "present", "{before}");

    // Kit's exit was someone else: retracted. Rose was there: added by hand at the door.
    let day = api.ok("GET", "/v1/people/kit/events?day=2026-11-20", json!(null)).await;
    let exit = day
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["camera_id"] == "door-out")
        .unwrap_or_else(|| panic!("{day}"));
    let exit_id = exit["event_id"].as_str().unwrap().to_owned();
    let (status, retracted) = api
        .post_json(
            "/v1/attendance/retractions",
            ADMIN_KEY,
            json!({ "event_id": exit_id, "reason": "a visitor in Kit's coat" }),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{retracted}");
    assert_eq!(
        (retracted["correction"].as_str(), retracted["actor"].as_str()),
        (Some("retraction"), Some("ops"))
    );
    let (status, added) = api
        .post_json(
            "/v1/attendance/additions",
            ADMIN_KEY,
            json!({ "person_id": "rose", "seen_at": "2026-11-20T07:58:00Z", "camera_id": "door-in",
                    "reason": "door camera down; seen by the teacher" }),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{added}");
    let after = report_until(&api, |s| {
        s.get("rose").is_some_and(|r| r != "absent") && s.get("kit").is_some_and(|k| k != "left_early")
    })
    .await;
    assert_eq!(statuses(&after)["rose"], "present", "{after}");
    assert_eq!(statuses(&after)["kit"], "present", "{after}");
    assert_eq!(statuses(&after)["obama"], "present", "{after}");
    let rose = api
        .ok("GET", "/v1/people/rose/events?day=2026-11-20", json!(null))
        .await;
    assert_eq!(rose[0]["manual"], true, "{rose}");
    let listed = api.ok("GET", "/v1/attendance/days/2026-11-20", json!(null)).await;
    let kit = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["person_id"] == "kit")
        .unwrap();
    assert_eq!(kit["events"], 1, "{listed}");

    // Both in the audit, with who and why.
    let reader_of_audit = &api;
    let audit = |subject: &'static str| async move {
        let (status, entries) = reader_of_audit
            .get(&format!("/v1/audit?subject={subject}"), ADMIN_KEY)
            .await;
        assert_eq!(status, StatusCode::OK, "{entries}");
        entries
    };
    let audit_of_kit = audit("kit").await;
    let retracted_entry = audit_of_kit
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"] == "attendance.retracted");
    let entry = retracted_entry.unwrap_or_else(|| panic!("{audit_of_kit}"));
    assert_eq!(
        (entry["actor"].as_str(), entry["details"]["reason"].as_str()),
        (Some("ops"), Some("a visitor in Kit's coat"))
    );
    let audit_of_rose = audit("rose").await;
    let added = audit_of_rose
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["action"] == "attendance.added");
    assert!(added, "{audit_of_rose}");

    // Refused, and nothing changes: an event that does not exist, one already retracted, a
    // person or camera that does not exist, a time to come, no reason.
    let refused = [
        (
            "/v1/attendance/retractions",
            json!({ "event_id": Uuid::new_v4(), "reason": "x" }),
            StatusCode::NOT_FOUND,
        ),
        (
            "/v1/attendance/retractions",
            json!({ "event_id": exit_id, "reason": "again" }),
            StatusCode::CONFLICT,
        ),
        (
            "/v1/attendance/retractions",
            json!({ "event_id": "not-a-uuid", "reason": "x" }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/v1/attendance/additions",
            json!({ "person_id": "nobody", "seen_at": "2026-11-20T08:00:00Z", "reason": "x" }),
            StatusCode::NOT_FOUND,
        ),
        (
            "/v1/attendance/additions",
            json!({ "person_id": "rose", "seen_at": "2026-11-20T08:00:00Z", "camera_id": "roof", "reason": "x" }),
            StatusCode::NOT_FOUND,
        ),
        (
            "/v1/attendance/additions",
            json!({ "person_id": "rose", "seen_at": "2999-01-01T08:00:00Z", "reason": "x" }),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/v1/attendance/additions",
            json!({ "person_id": "rose", "seen_at": "2026-11-20T08:00:00Z", "reason": " " }),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (path, body, expected) in refused {
        let (status, answer) = api.post_json(path, ADMIN_KEY, body.clone()).await;
        assert_eq!(status, expected, "{path} {body}: {answer}");
        assert!(
            answer["error"]["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{answer}"
        );
    }
    let (status, _) = api
        .post_json(
            "/v1/attendance/retractions",
            READER_KEY,
            json!({ "event_id": exit_id, "reason": "x" }),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a reader may not correct");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(statuses(&api.report("maths", "2026-11-20").await), statuses(&after));
    shutdown.cancel();
    projector.await.unwrap().unwrap();

    // A replay into an empty store gives the corrected rows.
    let rebuilt_db = TestDatabase::create().await;
    let out = rollcall(work.path())
        .envs(config_env(&api.config))
        .env("ROLLCALL__STORE__URL", &rebuilt_db.url)
        .arg("replay")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{said}{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        said.contains("replay: 6 messages") && said.contains("1 retracted"),
        "{said}"
    );
    let rebuilt = Store::open(&rebuilt_db.url, 2).await.unwrap();
    assert_eq!(days(&rebuilt).await, days(&api.store).await);
    assert_eq!(events_as_seen(&rebuilt).await, events_as_seen(&api.store).await);
    assert_eq!(
        events_as_seen(&rebuilt).await.len(),
        4,
        "Obama's two, Kit's entry, Rose's mark"
    );
    let audit = rebuilt.audit_entries("kit").await.unwrap();
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0].action, "attendance.retracted");
    drop(rebuilt);
    rebuilt_db.drop_now().await;
    api.stop().await;
}
