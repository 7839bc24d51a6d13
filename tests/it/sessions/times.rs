//! Sessions in time: a night shift across midnight and a daylight-saving change, a person in two
//! groups at once, and a session running now with its absentees and metrics.

use chrono::{TimeDelta, Utc};
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn across_midnight_through_a_daylight_saving_change_and_in_two_groups_at_once() {
    let api = Api::start(6_000).await;
    for id in ["nina", "omar", "pia"] {
        api.create_person(id, id).await;
    }
    // The ward's gates, and a canteen camera elsewhere; the night shift counts the ward's location.
    for (id, role, location) in [
        ("gate-in", "entry", "ward 3"),
        ("gate-out", "exit", "ward 3"),
        ("canteen", "both", "canteen"),
    ] {
        api.ok(
            "POST",
            "/v1/cameras",
            json!({ "id": id, "role": role, "location": location }),
        )
        .await;
    }
    api.setup(&[], "ward-3", &["nina", "omar", "pia"]).await;
    // Saturday night shifts in Berlin; the clocks go back from 03:00 to 02:00 on Sunday 2026-10-25,
    // so that night's shift (22:00 CEST to 06:00 CET) lasts 9 hours.
    api.ok(
        "POST",
        "/v1/groups/ward-3/schedules",
        json!({
            "id": "night", "kind": "weekly", "days": ["sat"], "start": "22:00", "end": "06:00",
            "ends_next_day": true, "time_zone": "Europe/Berlin", "grace_minutes": 10, "early_leave_minutes": 10,
            "locations": ["ward 3"]
        }),
    )
    .await;
    // Pia is also in a training group that meets at 00:30 that night, during the shift.
    api.setup(&[], "training", &["pia"]).await;
    api.ok(
        "POST",
        "/v1/groups/training/schedules",
        json!({
            "id": "first-aid", "kind": "once", "date": "2026-10-25", "start": "00:30", "end": "01:30",
            "time_zone": "Europe/Berlin", "cameras": ["gate-in", "gate-out"]
        }),
    )
    .await;
    api.project(&[
        // Nina: the whole shift, 21:55 CEST to 06:02 CET.
        event_at("nina", "gate-in", "2026-10-24T19:55:00Z"),
        event_at("nina", "gate-out", "2026-10-25T05:02:00Z"),
        // Omar: 30 minutes late, and gone at 04:00 CET, two hours early.
        event_at("omar", "gate-in", "2026-10-24T20:30:00Z"),
        event_at("omar", "gate-out", "2026-10-25T03:00:00Z"),
        // …and seen in the canteen afterwards, which is not the ward.
        event_at("omar", "canteen", "2026-10-25T04:30:00Z"),
        // Pia: arrives for the training at 00:25 CEST and leaves at 01:40 CEST.
        event_at("pia", "gate-in", "2026-10-24T22:25:00Z"),
        event_at("pia", "gate-out", "2026-10-24T23:40:00Z"),
    ])
    .await;

    let night = api.report("night", "2026-10-24").await;
    assert_eq!(night["starts_at"], "2026-10-24T20:00:00Z");
    assert_eq!(night["ends_at"], "2026-10-25T05:00:00Z", "06:00 CET");
    assert_eq!(person(&night, "nina")["status"], "present", "{night}");
    assert_eq!(person(&night, "nina")["present_minutes"], 540, "nine real hours");
    assert_eq!(person(&night, "omar")["status"], "late");
    assert_eq!(person(&night, "omar")["late_minutes"], 30);
    assert_eq!(person(&night, "omar")["left_early_minutes"], 120);
    assert_eq!(person(&night, "pia")["status"], "late");
    assert_eq!(person(&night, "pia")["late_minutes"], 145);

    let training = api.report("first-aid", "2026-10-25").await;
    assert_eq!(statuses(&training).len(), 1, "only the training's own group");
    assert_eq!(person(&training, "pia")["status"], "present", "{training}");
    assert_eq!(person(&training, "pia")["present_minutes"], 60);

    // Pia's history has both sessions, each with its own outcome.
    let history = api
        .ok(
            "GET",
            "/v1/people/pia/sessions?from=2026-10-24&to=2026-10-25",
            Value::Null,
        )
        .await;
    let outcomes: Vec<(String, String)> = history["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["schedule_id"].as_str().unwrap().to_owned(),
                s["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            ("night".to_owned(), "late".to_owned()),
            ("first-aid".to_owned(), "present".to_owned())
        ]
    );
    // The next Saturday the shift is 8 hours again.
    let sessions = api
        .ok(
            "GET",
            "/v1/schedules/night/sessions?from=2026-10-24&to=2026-11-01",
            Value::Null,
        )
        .await;
    let lengths: Vec<i64> = sessions
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let (start, end) = (at(s["starts_at"].as_str().unwrap()), at(s["ends_at"].as_str().unwrap()));
            (end - start).num_hours()
        })
        .collect();
    assert_eq!(lengths, [9, 8]);
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_session_shows_its_absentees_and_its_counts_in_the_metrics() {
    let api = Api::start(6_000).await;
    for id in ["ana", "bo", "cy"] {
        api.create_person(id, id).await;
    }
    api.setup(&[("lab-door", "both")], "lab", &["ana", "bo", "cy"]).await;
    // A session running now: it started an hour ago and lasts a day.
    let now = Utc::now();
    let started = now - TimeDelta::hours(1);
    api.ok(
        "POST",
        "/v1/groups/lab/schedules",
        json!({
            "id": "lab-day", "kind": "once", "date": started.date_naive(), "start": started.format("%H:%M").to_string(),
            "end": started.format("%H:%M").to_string(), "ends_next_day": true, "time_zone": "UTC", "grace_minutes": 30
        }),
    )
    .await;
    let seen = |p: &str, minutes_ago: i64| {
        let t = now - TimeDelta::minutes(minutes_ago);
        event_at(p, "lab-door", &t.to_rfc3339())
    };
    api.project(&[seen("ana", 58), seen("bo", 5)]).await;

    let absentees = api.ok("GET", "/v1/groups/lab/absentees", Value::Null).await;
    assert_eq!(absentees["sessions"].as_array().unwrap().len(), 1, "{absentees}");
    assert_eq!(absentees["sessions"][0]["absent"], json!(["cy"]));
    let report = api.report("lab-day", &started.date_naive().to_string()).await;
    assert_eq!(report["phase"], "running");
    assert_eq!(person(&report, "bo")["status"], "late");

    // The monitor recomputes every second (in these tests).
    let wanted = [
        "rollcall_sessions_people{group=\"lab\",status=\"present\"} 1",
        "rollcall_sessions_people{group=\"lab\",status=\"late\"} 1",
        "rollcall_sessions_people{group=\"lab\",status=\"absent\"} 1",
        "rollcall_sessions_running{group=\"lab\"} 1",
    ];
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let text = api.metrics_text().await;
        if wanted.iter().all(|w| text.contains(w)) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{wanted:?} not in\n{text}");
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    api.stop().await;
}
