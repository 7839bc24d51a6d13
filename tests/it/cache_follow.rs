//! Cached reads versioned from memory: generations pushed by PostgreSQL NOTIFY at commit reach
//! the API without a database round trip, and no read is stale while the channel is cut, gone
//! or back (docs/cache-generations.md).

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use rollcall::store::Store;
use sea_orm::ConnectionTrait;

use crate::helpers::*;

const DAY: &str = "/v1/attendance/days/2026-11-22";

fn memory_lookups() -> u64 {
    rollcall::metrics::metrics()
        .cache_generation_lookups
        .with_label_values(&["memory"])
        .get()
}

async fn present(api: &Api) -> Vec<String> {
    let (status, body) = api.get(DAY, READER_KEY).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["person_id"].as_str().unwrap().to_owned())
        .collect()
}

async fn until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "{what} within {limit:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Reads until `person` is listed, asserting that no read lists fewer people than `before`
/// (a read never goes back); returns how long the commit took to show.
async fn read_until_listed(api: &Api, before: &[String], person: &str) -> Duration {
    let started = Instant::now();
    loop {
        let now = present(api).await;
        assert!(
            before.iter().all(|p| now.contains(p)),
            "{now:?} lost some of {before:?}"
        );
        if now.iter().any(|p| p == person) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{person} not listed within 1 s: {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// The API, following the generations channel, and a writer that is not the API: it commits
/// without telling the API's mirror (as a projector in another process), so only the channel can.
async fn following_api() -> (Api, Store) {
    let api = Api::start(1_000_000).await;
    let writer = Store::connect(&api.config.store.url, 1).await.unwrap();
    until("the API follows the channel", Duration::from_secs(10), || {
        api.store.follows_generations()
    })
    .await;
    (api, writer)
}

/// Cuts the API's listening connection, as a network fault or a restarted pooler would.
async fn cut_the_channel(store: &Store) {
    let killed = store
        .connection()
        .query_all_raw(sea_orm::Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND query ILIKE 'LISTEN%' AND pid <> pg_backend_pid()",
        ))
        .await
        .unwrap();
    assert_eq!(killed.len(), 1, "one listening connection");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commits_reach_cached_reads_through_the_channel_and_none_is_stale_when_it_is_cut() {
    let (api, writer) = following_api().await;

    writer.write_attendance(&[door_event("ana", 1)]).await.unwrap();
    let seen = read_until_listed(&api, &[], "ana").await;
    // Hits are versioned from memory: no database round trip.
    let before = memory_lookups();
    for _ in 0..20 {
        assert_eq!(present(&api).await, ["ana"]);
    }
    assert!(memory_lookups() >= before + 20, "20 hits versioned from memory");

    // A commit reaches the API's reads through the channel.
    writer.write_attendance(&[door_event("ben", 2)]).await.unwrap();
    let pushed = read_until_listed(&api, &["ana".into()], "ben").await;
    println!("a commit was listed after {seen:?} (first) and {pushed:?} (pushed)");

    // The channel is cut: until it is back, reads ask the database, and a commit made meanwhile
    // (whose notification nobody receives) is listed at once.
    // The API may listen again within milliseconds, so the cut shows as a new connection (a
    // window without trust can be too short to catch by polling).
    let epoch = api.store.generations_epoch();
    cut_the_channel(&api.store).await;
    until(
        "the API notices the cut and listens anew",
        Duration::from_secs(5),
        || api.store.generations_epoch() > epoch,
    )
    .await;
    writer.write_attendance(&[door_event("cy", 3)]).await.unwrap();
    assert_eq!(
        present(&api).await,
        ["ana", "ben", "cy"],
        "the first read after the commit"
    );

    // Back: the mirror starts empty, fills from reads and the channel, and stays current.
    until("the channel is back", Duration::from_secs(10), || {
        api.store.follows_generations()
    })
    .await;
    assert_eq!(present(&api).await, ["ana", "ben", "cy"]);
    writer.write_attendance(&[door_event("dan", 4)]).await.unwrap();
    read_until_listed(&api, &["ana".into(), "ben".into(), "cy".into()], "dan").await;
    let before = memory_lookups();
    assert_eq!(present(&api).await, ["ana", "ben", "cy", "dan"]);
    assert!(memory_lookups() > before, "versioned from memory again");
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_are_never_stale_across_a_database_outage() {
    let (api, writer) = following_api().await;
    writer.write_attendance(&[door_event("ana", 1)]).await.unwrap();
    read_until_listed(&api, &[], "ana").await;

    // The database goes away: pings stop coming back, so the mirror stops being trusted within
    // its lease, and reads that need the database say so instead of guessing.
    let db = api.config.store.url.rsplit('/').next().unwrap().to_owned();
    set_database_reachable(&db, false).await;
    until("the lease runs out", Duration::from_secs(3), || {
        !api.store.follows_generations()
    })
    .await;
    let (status, _) = api.get(DAY, READER_KEY).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);

    // Back, with a commit made while the API's channel may still be down.
    set_database_reachable(&db, true).await;
    let writer = Store::connect(&api.config.store.url, 1).await.unwrap();
    writer.write_attendance(&[door_event("ben", 2)]).await.unwrap();
    read_until_listed(&api, &["ana".into()], "ben").await;
    until("the channel is back", Duration::from_secs(10), || {
        api.store.follows_generations()
    })
    .await;
    writer.write_attendance(&[door_event("cy", 3)]).await.unwrap();
    read_until_listed(&api, &["ana".into(), "ben".into()], "cy").await;
    api.stop().await;
}
