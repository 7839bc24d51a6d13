//! People over the API: erasure of a person everywhere, paging through people and a day, and a
//! rename reaching cached reads.

use std::time::{Duration, Instant};

use chrono::TimeDelta;
use reqwest::StatusCode;
use rollcall::cache::keys;
use rollcall::domain::AttendanceEvent;
use serde_json::json;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erasure_removes_templates_cache_entries_and_recognition_and_is_audited() {
    let api = Api::start(6_000).await;
    api.create_person("obama", "Barack Obama").await;
    api.create_person("biden", "Joe Biden").await;
    let (status, _) = api
        .upload("obama", &[("obama.jpg", photo("face_recognition/obama/obama.jpg"))])
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = api
        .upload("biden", &[("biden.jpg", photo("face_recognition/biden/biden.jpg"))])
        .await;
    assert_eq!(status, StatusCode::CREATED);

    // A recognizer's gallery, kept current over NATS as a running recognizer's is.
    let (gallery, watching, watcher) = api.watched_gallery(Duration::from_secs(3600)).await;
    let seen = photo("face_recognition/obama/test_obama1.jpg");
    assert_eq!(
        recognize_once(&gallery, None, &[frame("door", 0, &seen)]).await.len(),
        1
    );
    api.feed(&[frame("door", 0, &seen)]).await;
    let day = start_time().date_naive();
    for path in [
        "/v1/people/obama".to_owned(),
        format!("/v1/people/obama/attendance?from={day}&to={day}"),
    ] {
        assert_eq!(api.get(&path, READER_KEY).await.0, StatusCode::OK);
    }
    let person_entries = || api.redis.cli(&["--scan", "--pattern", "rollcall:v1:person:obama*"]);
    assert!(!person_entries().is_empty(), "the reads were cached");

    let request = api.http.delete(api.url("/v1/people/obama")).bearer_auth(ADMIN_KEY);
    let (status, erased) = api.send(request).await;
    assert_eq!(status, StatusCode::OK, "{erased}");
    assert_eq!(erased["templates_removed"], 1);
    assert_eq!(erased["attendance_events_removed"], 1);
    assert_eq!(person_entries(), "", "no cache entry about the person is left");
    assert_eq!(api.get("/v1/people/obama", READER_KEY).await.0, StatusCode::NOT_FOUND);
    let templates = rollcall::recognize::load_gallery(&api.store, "dlib_resnet_v1")
        .await
        .unwrap();
    assert_eq!(templates.people(), 1, "only biden's template is left");

    // The running recognizer applies the broadcast: obama is a stranger now.
    let start = Instant::now();
    while gallery.current().people() != 1 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the recognizer never applied the erasure"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        recognize_once(&gallery, None, &[frame("door", 1, &seen)])
            .await
            .is_empty()
    );

    let (status, audit) = api.get("/v1/audit?subject=obama", ADMIN_KEY).await;
    assert_eq!(status, StatusCode::OK, "{audit}");
    let erasure = audit
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "person.erased")
        .unwrap_or_else(|| panic!("no erasure in {audit}"));
    assert_eq!(erasure["actor"], "ops");
    assert_eq!(erasure["id"], erased["audit_id"]);
    assert_eq!(erasure["details"]["templates_removed"], 1);
    let text = erasure.to_string();
    assert!(
        !text.contains("embedding") && text.len() < 1_000,
        "no biometric data: {text}"
    );
    watching.cancel();
    watcher.await.unwrap().unwrap();
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_of_people_and_of_a_day_cover_everyone_once_and_a_rename_reaches_cached_reads() {
    let api = Api::start(6_000).await;
    let ids = ["ada", "bo", "cy", "dee", "eli", "fay", "gus"];
    for id in ids {
        api.create_person(id, &format!("Person {id}")).await;
    }
    let day = start_time().date_naive();
    let events: Vec<AttendanceEvent> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| attendance_event(id, "door", i as u64, start_time() + TimeDelta::minutes(i as i64)))
        .collect();
    api.project(&events).await;

    let expected: Vec<Vec<String>> = ids
        .chunks(3)
        .map(|c| c.iter().map(|s| s.to_string()).collect())
        .collect();
    assert_eq!(walk_pages(&api, "/v1/people?limit=3", "id").await, expected);
    let day_path = format!("/v1/attendance/days/{day}?limit=3");
    assert_eq!(walk_pages(&api, &day_path, "person_id").await, expected);
    // Read again: every page now comes from Redis and says the same.
    assert_eq!(walk_pages(&api, &day_path, "person_id").await, expected);
    let key = keys::attendance_day(day);
    let versioned = keys::versioned(&key, api.store.cache_generation(&key).await.unwrap());
    assert_eq!(api.redis.cli(&["HLEN", &versioned]), "3", "one cached field per page");

    // The person record is cached by the first read; a rename reaches the next read of it and of the day.
    let (_, before) = api.get("/v1/people/cy", READER_KEY).await;
    assert_eq!(before["display_name"], "Person cy");
    let person_key = keys::person("cy");
    let person_entry = keys::versioned(&person_key, api.store.cache_generation(&person_key).await.unwrap());
    assert!(api.redis.cli(&["HGET", &person_entry, "profile"]).contains("Person cy"));
    let (status, renamed) = api
        .send(
            api.http
                .patch(api.url("/v1/people/cy"))
                .bearer_auth(ADMIN_KEY)
                .json(&json!({ "display_name": "Cyrus Renamed" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{renamed}");
    let (_, after) = api.get("/v1/people/cy", READER_KEY).await;
    assert_eq!(after["display_name"], "Cyrus Renamed", "{after}");
    assert_eq!(
        api.redis.cli(&["EXISTS", &person_entry]),
        "0",
        "the stale entry is deleted"
    );
    let (_, first_page) = api.get(&day_path, READER_KEY).await;
    assert_eq!(first_page["items"][2]["display_name"], "Cyrus Renamed", "{first_page}");
    api.stop().await;
}
