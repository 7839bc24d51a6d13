//! The same store and pipeline code over a real PostgreSQL server, one fresh database per test.

use rollcall::store::Store;
use sea_orm::ConnectionTrait;

use crate::helpers::*;

#[tokio::test]
async fn a_stage_started_during_an_outage_waits_for_the_database() {
    let db = TestDatabase::create().await;
    let name = db.url.rsplit('/').next().unwrap().to_owned();
    set_database_reachable(&name, false).await;
    let stop = tokio_util::sync::CancellationToken::new();
    let backoff = rollcall::retry::Backoff::new(
        std::time::Duration::from_millis(50),
        std::time::Duration::from_millis(200),
    );
    let opening = tokio::spawn({
        let (url, stop) = (db.url.clone(), stop.clone());
        async move { Store::open_retrying(&url, 2, backoff, &stop).await }
    });
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    assert!(
        !opening.is_finished(),
        "opening must wait while the database refuses connections"
    );
    set_database_reachable(&name, true).await;
    let store = tokio::time::timeout(std::time::Duration::from_secs(10), opening)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(store.count_attendance_events().await.unwrap(), 0, "migrated and usable");
    drop(store);
    db.drop_now().await;
}

async fn all_applied(store: &Store) -> bool {
    store
        .migration_status()
        .await
        .unwrap()
        .iter()
        .all(|(_, applied)| *applied)
}

async fn none_applied(store: &Store) -> bool {
    store
        .migration_status()
        .await
        .unwrap()
        .iter()
        .all(|(_, applied)| !*applied)
}

#[tokio::test]
async fn migrations_go_up_down_and_up_again() {
    let db = TestDatabase::create().await;
    let store = Store::connect(&db.url, 2).await.unwrap();
    store.migrate_up().await.unwrap();
    assert!(all_applied(&store).await);
    let tables = |store: &Store| {
        let conn = store.connection().clone();
        async move {
            let rows = conn
                .query_all_raw(sea_orm::Statement::from_string(
                    sea_orm::DbBackend::Postgres,
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'seaql_migrations' ORDER BY 1",
                ))
                .await
                .unwrap();
            rows.iter()
                .map(|r| r.try_get_by_index::<String>(0).unwrap())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        tables(&store).await,
        [
            "attendance_days",
            "attendance_events",
            "attendance_retractions",
            "audit_log",
            "cache_generations",
            "cameras",
            "console_sessions",
            "erased_people",
            "face_templates",
            "group_members",
            "groups",
            "notification_channels",
            "notification_deliveries",
            "notifications",
            "people",
            "person_negatives",
            "recognize_anchors",
            "recognize_cooldowns",
            "session_schedules",
            "unknown_clusters",
            "unknown_faces"
        ]
    );
    // One step down reverts only the newest migration…
    store.migrate_down(1).await.unwrap();
    let after_one = tables(&store).await;
    assert!(!after_one.iter().any(|t| t == "console_sessions"));
    assert_eq!(after_one.len(), 20);
    // …and all the way down leaves nothing.
    let all = store.migration_status().await.unwrap().len() as u32;
    store.migrate_down(all).await.unwrap();
    assert!(tables(&store).await.is_empty());
    assert!(none_applied(&store).await);
    store.migrate_up().await.unwrap();
    assert_eq!(tables(&store).await.len(), 21);
    drop(store);
    db.drop_now().await;
}

#[tokio::test]
async fn batch_writes_are_idempotent_and_order_independent_on_postgres() {
    let (a, b) = (TestDatabase::create().await, TestDatabase::create().await);
    let forward = Store::open(&a.url, 2).await.unwrap();
    let backward = Store::open(&b.url, 2).await.unwrap();
    writes_are_idempotent_and_order_independent(&forward, &backward).await;
    drop((forward, backward));
    a.drop_now().await;
    b.drop_now().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_pipeline_runs_over_postgres_too() {
    let db = TestDatabase::create().await;
    let work = tempfile::tempdir().unwrap();
    let mut config = config(work.path());
    config.store.url = db.url.clone();
    run_then_replay(&config, work.path()).await;
    db.drop_now().await;
}

/// The projector copies a batch's new events after looking up which are stored. A writer that
/// stores one of them in between (two projectors briefly sharing a partition during a
/// rebalance) makes the COPY fail on the key: the batch is written again with
/// INSERT … ON CONFLICT, and nothing is lost or counted twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_concurrent_writer_of_the_same_event_makes_the_copy_give_way() {
    use sea_orm::sqlx::{Connection, PgConnection};
    let db = TestDatabase::create().await;
    let store = Store::open(&db.url, 2).await.unwrap();
    let events: Vec<_> = (0..50)
        .map(|i| {
            attendance_event(
                "ana",
                "door",
                i,
                at("2026-11-22T08:00:00Z") + chrono::TimeDelta::seconds(i as i64),
            )
        })
        .collect();

    // The other writer holds event 7 inserted and uncommitted.
    let mut other = PgConnection::connect(&db.url).await.unwrap();
    let mut other_txn = other.begin().await.unwrap();
    sea_orm::sqlx::query(
        "INSERT INTO attendance_events (event_id, person_id, camera_id, frame_seq, seen_at, distance, \
         similarity, box_x, box_y, box_w, box_h, model_id, schema_version, recorded_at) \
         VALUES ($1, 'ana', 'door', 7, now(), 0.3, 0.7, 1, 2, 3, 4, 'dlib_resnet_v1', 1, now())",
    )
    .bind(events[7].event_id)
    .execute(&mut *other_txn)
    .await
    .unwrap();

    let writer = {
        let (store, events) = (store.clone(), events.clone());
        tokio::spawn(async move { store.write_attendance(&events).await })
    };
    // The projector's COPY now waits for the other transaction's key.
    let observer = sea_orm::Database::connect(&db.url).await.unwrap();
    let waiting = "SELECT count(*) AS n FROM pg_stat_activity \
                   WHERE wait_event_type = 'Lock' AND query LIKE 'COPY attendance_events%'";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let row = observer
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DatabaseBackend::Postgres,
                waiting,
            ))
            .await
            .unwrap()
            .unwrap();
        if row.try_get::<i64>("", "n").unwrap() == 1 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the copy never waited for the other writer"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    other_txn.commit().await.unwrap();

    let outcome = writer
        .await
        .unwrap()
        .expect("the batch is written despite the conflict");
    assert_eq!((outcome.inserted, outcome.duplicates), (49, 1));
    assert_eq!(store.attendance_events().await.unwrap().len(), 50);
    let days = store.attendance_days().await.unwrap();
    assert_eq!(
        days[0].events, 49,
        "the other writer's event is not folded by this batch"
    );
    let again = store.write_attendance(&events).await.unwrap();
    assert_eq!((again.inserted, again.duplicates), (0, 50));
    drop((store, observer));
    db.drop_now().await;
}
