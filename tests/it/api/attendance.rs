//! Enrolment over HTTP and attendance read through the Redis cache (and the process's own copies
//! in front of it), with Redis up and down.

use chrono::TimeDelta;
use reqwest::StatusCode;
use rollcall::cache::keys;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrol_over_http_then_read_attendance_through_the_cache_and_see_new_events() {
    // Without the layer in memory, so that a second read goes to Redis.
    let api = Api::start_with(|config| {
        config.api.rate_limit_per_minute = 6_000;
        config.api.hot_cache_mb = 0;
    })
    .await;
    enrol_obama(&api).await;
    let seen = photo("face_recognition/obama/test_obama1.jpg");
    let events = api.feed(&[frame("door", 0, &seen)]).await;
    assert_eq!(events.len(), 1);
    let day = start_time().date_naive();
    let path = format!("/v1/attendance/days/{day}");
    let (status, first) = api.get(&path, READER_KEY).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["items"].as_array().unwrap().len(), 1, "{first}");
    assert_eq!(first["items"][0]["person_id"], "obama");
    assert_eq!(first["items"][0]["display_name"], "Barack Obama");
    assert_eq!(first["items"][0]["events"], 1);

    // The read left an entry under the key's current generation, and the second read is served
    // from it: mark the entry, and the mark comes back.
    let versioned = mark_the_day_page_in_redis(&api, day).await;
    let (_, second) = api.get(&path, READER_KEY).await;
    assert_eq!(second["items"][0]["display_name"], "Served From Redis", "{second}");

    // A new event that day (past the cooldown) reaches the next read.
    let third = seen_again_two_hours_later(&api, &seen, &path).await;
    assert_eq!(third["items"][0]["display_name"], "Barack Obama", "{third}");
    assert_eq!(
        api.redis.cli(&["EXISTS", &versioned]),
        "0",
        "the old generation's entry is deleted"
    );

    // The person's range and the daily stats agree.
    let (status, range) = api
        .get(&format!("/v1/people/obama/attendance?from={day}&to={day}"), READER_KEY)
        .await;
    assert_eq!(status, StatusCode::OK, "{range}");
    assert_eq!(range["days"][0]["events"], 2);
    let (_, stats) = api.get(&format!("/v1/stats/daily/{day}"), READER_KEY).await;
    assert_eq!(stats["present"], 1, "{stats}");
    assert_eq!(stats["per_camera"][0]["camera_id"], "door");
    assert_eq!(stats["per_camera"][0]["events"], 2);
    api.stop().await;
}

/// Renames Obama to "Served From Redis" in Redis's entry of the day's first page, under the day
/// key's current version (which it returns), after checking the entry holds him.
async fn mark_the_day_page_in_redis(api: &Api, day: chrono::NaiveDate) -> String {
    let key = keys::attendance_day(day);
    let versioned = keys::versioned(&key, api.store.cache_generation(&key).await.unwrap());
    let field = format!("page::{}", api.config.api.default_page_size);
    let cached = api.redis.cli(&["HGET", &versioned, &field]);
    assert!(cached.contains("Barack Obama"), "{cached:?}");
    let marked = cached.replace("Barack Obama", "Served From Redis");
    api.redis.cli(&["HSET", &versioned, &field, &marked]);
    versioned
}

/// Feeds Obama's photo again two hours on (past the cooldown: a second event that day), and
/// reads `path` (the day's page), which must count both.
async fn seen_again_two_hours_later(api: &Api, seen: &[u8], path: &str) -> serde_json::Value {
    let later = rollcall::domain::Frame {
        captured_at: start_time() + TimeDelta::hours(2),
        ..frame("door", 1, seen)
    };
    assert_eq!(api.feed(&[later]).await.len(), 1);
    let (_, page) = api.get(path, READER_KEY).await;
    assert_eq!(page["items"][0]["events"], 2, "{page}");
    page
}

async fn enrol_obama(api: &Api) {
    api.create_person("obama", "Barack Obama").await;
    let (status, body) = api
        .upload(
            "obama",
            &[
                ("obama.jpg", photo("face_recognition/obama/obama.jpg")),
                ("obama2.jpg", photo("face_recognition/obama/obama2.jpg")),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["templates_added"], 2, "{body}");
    assert!(
        body["photos"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["status"] == "enrolled"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_read_comes_from_the_process_memory_and_a_new_event_still_reaches_the_next() {
    let api = Api::start(6_000).await;
    enrol_obama(&api).await;
    let seen = photo("face_recognition/obama/test_obama1.jpg");
    assert_eq!(api.feed(&[frame("door", 0, &seen)]).await.len(), 1);
    let day = start_time().date_naive();
    let path = format!("/v1/attendance/days/{day}");
    let (_, first) = api.get(&path, READER_KEY).await;
    assert_eq!(first["items"][0]["events"], 1, "{first}");
    // A mark put into Redis's entry is not seen: the process answers from its own copy.
    mark_the_day_page_in_redis(&api, day).await;
    let (_, second) = api.get(&path, READER_KEY).await;
    assert_eq!(second, first);
    // The copy is of one version: a new event that day moves the version on, and the next read.
    seen_again_two_hours_later(&api, &seen, &path).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_down_reads_are_served_uncached_and_readiness_says_degraded() {
    let mut api = Api::start(6_000).await;
    api.create_person("ana", "Ana").await;
    api.redis.stop();
    let (status, ready) = api.get("/readyz", "").await;
    assert_eq!(status, StatusCode::OK, "{ready}");
    assert_eq!(ready["cache"], "degraded", "{ready}");
    let (status, person) = api.get("/v1/people/ana", READER_KEY).await;
    assert_eq!(
        (status, person["display_name"].as_str()),
        (StatusCode::OK, Some("Ana")),
        "{person}"
    );
    let day = start_time().date_naive();
    assert_eq!(
        api.get(&format!("/v1/attendance/days/{day}"), READER_KEY).await.0,
        StatusCode::OK
    );
    let metrics = api.metrics_text().await;
    assert!(
        metrics.contains("rollcall_api_cache_lookups_total{outcome=\"error\"}"),
        "{metrics}"
    );
    api.stop().await;
}
