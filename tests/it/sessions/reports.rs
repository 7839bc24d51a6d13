//! A session report from real photos: on time, late, left early and absent, the same in any
//! delivery order, served from Redis, and recomputed after a schedule or membership change.

use std::collections::BTreeMap;

use rollcall::domain::AttendanceEvent;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_time_late_left_early_and_absent_from_real_photos_in_any_delivery_order_and_after_an_edit() {
    let api = Api::start(6_000).await;
    api.enrol_people(&CLASS_ENROLMENT).await;
    class_with_maths(&api).await;
    // Obama on time and to the end, Biden 20 minutes late, Kit leaves an hour early, Rose never
    // comes. Photos other than the enrolled ones, through the recognizer and the projector.
    let frames = [
        frame_at(
            "door-in",
            at("2026-11-20T07:57:00Z"),
            "face_recognition/obama/obama2.jpg",
        ),
        frame_at(
            "door-in",
            at("2026-11-20T08:20:00Z"),
            "face_recognition/biden/biden2.jpg",
        ),
        frame_at(
            "door-in",
            at("2026-11-20T07:50:00Z"),
            "face_recognition/kit_harington/john2.jpeg",
        ),
        frame_at(
            "door-out",
            at("2026-11-20T09:00:00Z"),
            "face_recognition/kit_harington/john2.jpeg",
        ),
        frame_at(
            "door-out",
            at("2026-11-20T10:02:00Z"),
            "face_recognition/obama/obama3.jpg",
        ),
        frame_at(
            "door-out",
            at("2026-11-20T10:01:00Z"),
            "face_recognition/biden/biden2.jpg",
        ),
    ];
    let events = api.feed(&frames).await;
    assert_eq!(events.len(), 6, "every frame recognized: {events:?}");

    let report = api.report("maths", "2026-11-20").await;
    let expected: BTreeMap<String, String> = [
        ("biden", "late"),
        ("kit", "left_early"),
        ("obama", "present"),
        ("rose", "absent"),
    ]
    .map(|(p, s)| (p.to_owned(), s.to_owned()))
    .into();
    assert_eq!(statuses(&report), expected, "{report}");
    assert_eq!(report["phase"], "ended");
    assert_eq!(report["starts_at"], "2026-11-20T08:00:00Z");
    assert_eq!(person(&report, "biden")["late_minutes"], 20);
    assert_eq!(person(&report, "kit")["left_early_minutes"], 60);
    assert_eq!(person(&report, "kit")["present_minutes"], 60);
    assert_eq!(person(&report, "obama")["present_minutes"], 120);
    assert_eq!(
        report["counts"],
        json!({"present": 1, "late": 1, "left_early": 1, "absent": 1})
    );

    // CSV export of the same report.
    let response = api
        .http
        .get(api.url("/v1/schedules/maths/sessions/2026-11-20?format=csv"))
        .bearer_auth(READER_KEY)
        .send()
        .await
        .unwrap();
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = response.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 5, "{csv}");
    assert!(lines[0].starts_with("schedule_id,date,person_id,status"));
    assert!(lines.contains(&"maths,2026-11-20,rose,absent,,,0,,"), "{csv}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("maths,2026-11-20,biden,late,2026-11-20T08:20:00+00:00"))
    );

    // The same events again, reversed and in two batches (a redelivery, a replay): nothing changes.
    let mut again: Vec<AttendanceEvent> = events.iter().rev().cloned().collect();
    api.project(&again[..3]).await;
    api.project(&again[3..]).await;
    again.extend(events.iter().cloned());
    api.project(&again).await;
    assert_eq!(api.report("maths", "2026-11-20").await, report);

    // A second store that gets the events in another order, each twice: the same report.
    let other = Api::start(6_000).await;
    for id in CLASS {
        other.create_person(id, id).await;
    }
    class_with_maths(&other).await;
    let mut shuffled = events.clone();
    shuffled.rotate_left(4);
    shuffled.swap(0, 3);
    for chunk in shuffled.chunks(2) {
        other.project(chunk).await;
        other.project(chunk).await;
    }
    assert_eq!(other.report("maths", "2026-11-20").await, report);
    other.stop().await;

    // The report is served from Redis while nothing changes…
    let cached_entries = |redis: &TestRedis| {
        redis
            .cli(&["--scan", "--pattern", "rollcall:v1:session:maths:*"])
            .lines()
            .count()
    };
    assert_eq!(cached_entries(&api.redis), 1);
    // …and an edit of the schedule recomputes it: starting at 09:30, Biden (09:20) was on time.
    let mut later = maths();
    later["start"] = "09:30".into();
    later["grace_minutes"] = 0.into();
    let edited = api.ok("PUT", "/v1/schedules/maths", later).await;
    assert_eq!(edited["version"], 2);
    let recomputed = api.report("maths", "2026-11-20").await;
    assert_eq!(recomputed["schedule_version"], 2);
    assert_eq!(person(&recomputed, "biden")["status"], "present", "{recomputed}");
    assert_eq!(person(&recomputed, "obama")["status"], "present");
    assert_eq!(cached_entries(&api.redis), 2, "a new entry under the new version");
    // A membership change is seen too: Rose leaves the class, and its report.
    api.ok("DELETE", "/v1/groups/class-4b/members/rose", Value::Null).await;
    let smaller = api.report("maths", "2026-11-20").await;
    assert!(!statuses(&smaller).contains_key("rose"), "{smaller}");
    // Biden's history shows the session.
    let history = api
        .ok(
            "GET",
            "/v1/people/biden/sessions?from=2026-11-19&to=2026-11-21",
            Value::Null,
        )
        .await;
    assert_eq!(history["sessions"].as_array().unwrap().len(), 1, "{history}");
    assert_eq!(history["sessions"][0]["status"], "present");
    api.stop().await;
}
