//! The Redis cache: generations bumped with the data, old entries invalidated after each batch,
//! and Redis going unresponsive costing nothing but a counted failure, never a stale read.

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rollcall::bus::{Consumer, MemoryConsumer, Producer, memory_topic};
use rollcall::cache::{Cache, keys};
use rollcall::domain::AttendanceRecord;
use rollcall::project::{Attendance, Projector};
use rollcall::store::Store;
use tokio_util::sync::CancellationToken;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_bump_generations_and_stale_entries_are_never_read() {
    let redis = TestRedis::start();
    let work = tempfile::tempdir().unwrap();
    let store = Store::open(&config(work.path()).store.url, 1).await.unwrap();
    let cache = Cache::connect(&redis.url()).unwrap();
    let day = keys::attendance_day("2026-11-22".parse().unwrap());

    // A reader cached the day before anything happened (generation 0).
    redis.cli(&["SET", &keys::versioned(&day, 0), "empty list"]);
    let outcome = store.write_attendance(&[door_event("ana", 1)]).await.unwrap();
    assert_eq!(store.cache_generation(&day).await.unwrap(), 1);
    assert_eq!(
        cache.invalidate(&outcome.generations).await.unwrap(),
        3,
        "day, daily stats, ana"
    );
    assert_eq!(
        redis.cli(&["EXISTS", &keys::versioned(&day, 0)]),
        "0",
        "the old entry is gone"
    );

    // A replay changes no data, so no generation.
    let replay = store.write_attendance(&[door_event("ana", 1)]).await.unwrap();
    assert!(replay.generations.is_empty());
    assert_eq!(store.cache_generation(&day).await.unwrap(), 1);

    // Redis stops answering (its data intact, as in a network partition) while Ben arrives.
    redis.cli(&["SET", &keys::versioned(&day, 1), "list with ana only"]);
    let sleeper = Command::new("redis-cli")
        .args(["-p", &redis.port.to_string(), "DEBUG", "SLEEP", "4"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let outcome = store.write_attendance(&[door_event("ben", 2)]).await.unwrap();
    let started = Instant::now();
    assert!(
        cache.invalidate(&outcome.generations).await.is_err(),
        "Redis is not answering"
    );
    assert!(
        started.elapsed() < Duration::from_millis(3_500),
        "a failed invalidation must not hang the projector"
    );
    let _ = sleeper.wait_with_output();

    // Redis may run the timed-out DEL when it wakes; a DEL lost for good is the worst case, so
    // put the stale entry back: Redis is back with an entry that missed its invalidation…
    redis.cli(&["SET", &keys::versioned(&day, 1), "list with ana only"]);
    // …but readers look up the current generation, which has no entry yet: a miss, not stale data.
    let current = store.cache_generation(&day).await.unwrap();
    assert_eq!(current, 2);
    assert_eq!(redis.cli(&["EXISTS", &keys::versioned(&day, current)]), "0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_projector_stores_everything_with_redis_down_and_counts_it() {
    let work = tempfile::tempdir().unwrap();
    let store = Store::open(&config(work.path()).store.url, 1).await.unwrap();
    // Nothing listens on this port: Redis is down from the start.
    let port = free_port();
    let cache = Cache::connect(&format!("redis://127.0.0.1:{port}")).unwrap();
    let (tx, rx) = memory_topic::<AttendanceRecord>(1, 16);
    let (dlq, _dlq_rx) = memory_topic(1, 16);
    let project = rollcall::config::ProjectConfig {
        batch_size: 2,
        ..Default::default()
    };
    let projector = Projector::new(Attendance, store.clone(), project, Arc::new(dlq)).with_cache(cache);
    let failed = || {
        rollcall::metrics::metrics()
            .project_cache_invalidations
            .with_label_values(&["failed"])
            .get()
    };
    let failed_before = failed();
    for (seq, person) in ["ana", "ben", "cy"].iter().enumerate() {
        let event = AttendanceRecord::Sighting(door_event(person, seq as u64));
        tx.send(person, event).await.unwrap();
    }
    drop(tx);
    let events: Box<dyn Consumer<AttendanceRecord>> = Box::new(MemoryConsumer::new(rx));
    let stats = projector
        .run(events, CancellationToken::new(), CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(stats.inserted, 3);
    assert_eq!(stats.batches, 2);
    assert_eq!(stats.cache_failures, 2, "{stats:?}");
    // Other tests may count failures of their own meanwhile: at least these two are exported.
    assert!(failed() >= failed_before + 2, "the metric says the cache is degraded");
    assert!(rollcall::metrics::render().contains("rollcall_project_cache_invalidations_total{outcome=\"failed\"}"));
    assert_eq!(store.count_attendance_events().await.unwrap(), 3);
}
