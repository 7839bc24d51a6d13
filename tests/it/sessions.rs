//! Groups, schedules and session reports over the API, on real PostgreSQL and Redis: real photos
//! recognized and projected by the pipeline's own stages, delivery in any order, sessions across
//! midnight and a daylight-saving change, a person in two groups, schedule edits, bad input and
//! the running-session metrics.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use reqwest::StatusCode;
use rollcall::domain::{AttendanceEvent, CameraId, FaceBox, Frame, PersonId};
use serde_json::{Value, json};

use crate::api::{ADMIN_KEY, Api, READER_KEY};
use crate::support::*;

fn at(rfc3339: &str) -> DateTime<Utc> {
    rfc3339.parse().unwrap()
}

impl Api {
    async fn put_json(&self, path: &str, key: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.http.put(self.url(path)).bearer_auth(key).json(&body))
            .await
    }

    async fn delete(&self, path: &str, key: &str) -> (StatusCode, Value) {
        self.send(self.http.delete(self.url(path)).bearer_auth(key)).await
    }

    async fn ok(&self, method: &str, path: &str, body: Value) -> Value {
        let (status, answer) = match method {
            "POST" => self.post_json(path, ADMIN_KEY, body).await,
            "PUT" => self.put_json(path, ADMIN_KEY, body).await,
            "GET" => self.get(path, READER_KEY).await,
            "DELETE" => self.delete(path, ADMIN_KEY).await,
            _ => unreachable!(),
        };
        assert!(status.is_success(), "{method} {path}: {status} {answer}");
        answer
    }

    /// Cameras with roles, a group with members, each in one call per item.
    async fn setup(&self, cameras: &[(&str, &str)], group: &str, members: &[&str]) {
        for (id, role) in cameras {
            self.ok("POST", "/v1/cameras", json!({ "id": id, "role": role })).await;
        }
        self.ok("POST", "/v1/groups", json!({ "id": group })).await;
        for person in members {
            self.ok("PUT", &format!("/v1/groups/{group}/members/{person}"), json!({}))
                .await;
        }
    }

    async fn report(&self, schedule: &str, date: &str) -> Value {
        self.ok("GET", &format!("/v1/schedules/{schedule}/sessions/{date}"), Value::Null)
            .await
    }
}

/// Each person's status in a report, and the report's counts.
fn statuses(report: &Value) -> BTreeMap<String, String> {
    report["people"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["person_id"].as_str().unwrap().to_owned(),
                p["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn person<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["people"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["person_id"] == id)
        .unwrap_or_else(|| panic!("{id} not in {report}"))
}

fn frame_at(camera: &str, captured_at: DateTime<Utc>, photo: &str) -> Frame {
    Frame {
        camera: CameraId::parse(camera).unwrap(),
        seq: captured_at.timestamp_millis() as u64,
        captured_at,
        content_type: "image/jpeg".into(),
        data: std::fs::read(face(photo)).unwrap(),
    }
}

fn event(person: &str, camera: &str, seen_at: &str) -> AttendanceEvent {
    let seen_at = at(seen_at);
    AttendanceEvent::new(
        PersonId::parse(person).unwrap(),
        CameraId::parse(camera).unwrap(),
        seen_at.timestamp_millis() as u64,
        seen_at,
        0.3,
        FaceBox {
            x: 1,
            y: 1,
            w: 90,
            h: 90,
        },
        "dlib_resnet_v1",
    )
}

const CLASS: [&str; 4] = ["biden", "kit", "obama", "rose"];

/// Maths for class 4b on Friday 2026-11-20, 09:00–11:00 in Berlin (08:00–10:00 UTC).
fn maths() -> Value {
    json!({
        "id": "maths", "name": "Maths", "kind": "once", "date": "2026-11-20",
        "start": "09:00", "end": "11:00", "time_zone": "Europe/Berlin",
        "cameras": ["door-in", "door-out"], "grace_minutes": 5, "early_leave_minutes": 10
    })
}

async fn class_with_maths(api: &Api) {
    api.setup(&[("door-in", "entry"), ("door-out", "exit")], "class-4b", &CLASS)
        .await;
    api.ok("POST", "/v1/groups/class-4b/schedules", maths()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_time_late_left_early_and_absent_from_real_photos_in_any_delivery_order_and_after_an_edit() {
    let api = Api::start(6_000).await;
    for (id, name, photo) in [
        ("obama", "Barack Obama", "face_recognition/obama/obama.jpg"),
        ("biden", "Joe Biden", "face_recognition/biden/biden.jpg"),
        ("kit", "Kit Harington", "face_recognition/kit_harington/john1.jpeg"),
        ("rose", "Rose Leslie", "face_recognition/rose_leslie/img1.jpg"),
    ] {
        api.create_person(id, name).await;
        let (status, body) = api.upload(id, &[("1.jpg", std::fs::read(face(photo)).unwrap())]).await;
        assert!(status.is_success(), "{id}: {body}");
    }
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
    let cached_entries = |redis: &crate::cache::TestRedis| {
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
        event("nina", "gate-in", "2026-10-24T19:55:00Z"),
        event("nina", "gate-out", "2026-10-25T05:02:00Z"),
        // Omar: 30 minutes late, and gone at 04:00 CET, two hours early.
        event("omar", "gate-in", "2026-10-24T20:30:00Z"),
        event("omar", "gate-out", "2026-10-25T03:00:00Z"),
        // …and seen in the canteen afterwards, which is not the ward.
        event("omar", "canteen", "2026-10-25T04:30:00Z"),
        // Pia: arrives for the training at 00:25 CEST and leaves at 01:40 CEST.
        event("pia", "gate-in", "2026-10-24T22:25:00Z"),
        event("pia", "gate-out", "2026-10-24T23:40:00Z"),
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
async fn bad_schedules_memberships_and_deletions_get_a_clear_4xx_and_change_nothing() {
    let api = Api::start(6_000).await;
    for id in ["ana", "bo"] {
        api.create_person(id, id).await;
    }
    api.setup(&[], "team", &["ana"]).await;
    api.ok(
        "PUT",
        "/v1/groups/team/members/bo",
        json!({ "from": "2026-09-01", "until": "2026-12-31" }),
    )
    .await;
    api.ok("POST", "/v1/groups/team/schedules", maths()).await;
    let before = api.ok("GET", "/v1/groups/team", Value::Null).await;

    let mut reversed = maths();
    reversed["id"] = "late-shift".into();
    reversed["start"] = "22:00".into();
    reversed["end"] = "06:00".into();
    let mut nowhere = maths();
    nowhere["id"] = "nowhere".into();
    nowhere["time_zone"] = "Europe/Atlantis".into();
    let cases: Vec<(StatusCode, &str, (StatusCode, Value))> = vec![
        (
            StatusCode::BAD_REQUEST,
            "ends_next_day",
            api.post_json("/v1/groups/team/schedules", ADMIN_KEY, reversed).await,
        ),
        (
            StatusCode::BAD_REQUEST,
            "unknown time zone",
            api.post_json("/v1/groups/team/schedules", ADMIN_KEY, nowhere).await,
        ),
        (
            StatusCode::CONFLICT,
            "overlap",
            api.put_json(
                "/v1/groups/team/members/bo",
                ADMIN_KEY,
                json!({ "from": "2026-12-01", "until": "2027-03-31" }),
            )
            .await,
        ),
        (
            StatusCode::CONFLICT,
            "overlap",
            api.put_json("/v1/groups/team/members/ana", ADMIN_KEY, json!({})).await,
        ),
        (
            StatusCode::BAD_REQUEST,
            "after until",
            api.put_json(
                "/v1/groups/team/members/bo",
                ADMIN_KEY,
                json!({ "from": "2027-06-01", "until": "2027-01-01" }),
            )
            .await,
        ),
        (
            StatusCode::CONFLICT,
            "delete them first",
            api.delete("/v1/groups/team", ADMIN_KEY).await,
        ),
        (
            StatusCode::NOT_FOUND,
            "no person",
            api.put_json("/v1/groups/team/members/zed", ADMIN_KEY, json!({})).await,
        ),
        (
            StatusCode::CONFLICT,
            "exists",
            api.post_json("/v1/groups/team/schedules", ADMIN_KEY, maths()).await,
        ),
        (
            StatusCode::NOT_FOUND,
            "no session",
            api.get("/v1/schedules/maths/sessions/2026-11-21", READER_KEY).await,
        ),
        (
            StatusCode::BAD_REQUEST,
            "format",
            api.get("/v1/schedules/maths/sessions/2026-11-20?format=xml", READER_KEY)
                .await,
        ),
        (
            StatusCode::FORBIDDEN,
            "",
            api.post_json("/v1/groups", READER_KEY, json!({ "id": "readers" }))
                .await,
        ),
    ];
    for (expected, says, (status, body)) in cases {
        assert_eq!(status, expected, "{body}");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{expected}: {message:?} should say {says:?}");
    }
    assert_eq!(
        api.ok("GET", "/v1/groups/team", Value::Null).await,
        before,
        "nothing changed"
    );
    // Erasing a person removes their memberships with them.
    api.ok("DELETE", "/v1/people/ana", Value::Null).await;
    let members = api.ok("GET", "/v1/groups/team", Value::Null).await["members"].clone();
    assert_eq!(members.as_array().unwrap().len(), 1, "{members}");
    assert_eq!(members[0]["person_id"], "bo");
    // A later, separate period is fine; so is deleting the group once its schedule is gone.
    api.ok(
        "PUT",
        "/v1/groups/team/members/bo",
        json!({ "from": "2027-01-01", "until": null }),
    )
    .await;
    api.ok("DELETE", "/v1/schedules/maths", Value::Null).await;
    api.ok("DELETE", "/v1/groups/team", Value::Null).await;
    let (status, _) = api.get("/v1/groups/team", READER_KEY).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
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
        event(p, "lab-door", &t.to_rfc3339())
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_manages_groups_and_schedules_and_prints_reports() {
    let work = tempfile::tempdir().unwrap();
    let store = rollcall::store::Store::open(&config(work.path()).store.url, 1)
        .await
        .unwrap();
    for id in ["ana", "bo"] {
        store.create_person(&PersonId::parse(id).unwrap(), id).await.unwrap();
    }
    let run = |args: &[&str]| {
        let out = rollcall(work.path()).args(args).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        (
            out.status.success(),
            text,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert!(run(&["groups", "create", "choir"]).0);
    assert!(run(&["groups", "add-member", "choir", "ana"]).0);
    assert!(run(&["groups", "add-member", "choir", "bo", "--from", "2026-11-01"]).0);
    let (ok, _, err) = run(&["groups", "add-member", "choir", "bo", "--from", "2026-11-10"]);
    assert!(!ok && err.contains("already a member"), "{err}");
    let file = work.path().join("rehearsal.json");
    std::fs::write(
        &file,
        json!({
            "id": "rehearsal", "group_id": "choir", "kind": "weekly", "days": ["mon"],
            "start": "18:00", "end": "20:00", "time_zone": "America/New_York"
        })
        .to_string(),
    )
    .unwrap();
    let (ok, _, err) = run(&["groups", "add-schedule", file.to_str().unwrap()]);
    assert!(ok, "{err}");
    // Monday 2026-11-16, 18:00–20:00 in New York is 23:00–01:00 UTC.
    store
        .write_attendance(&[event("ana", "hall", "2026-11-16T22:58:00Z")])
        .await
        .unwrap();
    let (ok, csv, err) = run(&["sessions", "report", "rehearsal", "2026-11-16", "--csv"]);
    assert!(ok, "{err}");
    let lines: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(
        lines[0].starts_with("rehearsal,2026-11-16,ana,present,2026-11-16T22:58:00+00:00"),
        "{csv}"
    );
    assert!(lines[1].starts_with("rehearsal,2026-11-16,bo,absent"), "{csv}");
    let (ok, table, _) = run(&["sessions", "report", "rehearsal", "2026-11-16"]);
    assert!(
        ok && table.contains("present 1, late 0, left early 0, absent 1"),
        "{table}"
    );
    let (ok, history, _) = run(&[
        "sessions",
        "history",
        "ana",
        "--from",
        "2026-11-10",
        "--to",
        "2026-11-20",
    ]);
    assert!(
        ok && history.contains("2026-11-16  rehearsal") && history.contains("present"),
        "{history}"
    );
    // A session running now: nobody has come yet.
    let started = Utc::now() - TimeDelta::hours(1);
    std::fs::write(
        &file,
        json!({
            "id": "all-day", "group_id": "choir", "kind": "once", "date": started.date_naive(),
            "start": started.format("%H:%M").to_string(), "end": started.format("%H:%M").to_string(),
            "ends_next_day": true, "time_zone": "UTC"
        })
        .to_string(),
    )
    .unwrap();
    assert!(run(&["groups", "add-schedule", file.to_str().unwrap()]).0);
    let (ok, absentees, err) = run(&["sessions", "absentees", "choir"]);
    assert!(ok, "{err}");
    assert!(
        absentees
            .lines()
            .any(|l| l.starts_with("all-day until") && l.ends_with(": ana bo")),
        "{absentees}"
    );
    let (ok, _, err) = run(&["groups", "delete", "choir"]);
    assert!(!ok && err.contains("delete them first"), "{err}");
    let (ok, listed, _) = run(&["groups", "list"]);
    assert!(ok && listed.contains("member    bo  2026-11-01 – …"), "{listed}");
}
