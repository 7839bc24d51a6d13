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
            "audit_log",
            "cache_generations",
            "cameras",
            "erased_people",
            "face_templates",
            "group_members",
            "groups",
            "people",
            "recognize_anchors",
            "recognize_cooldowns",
            "session_schedules"
        ]
    );
    // One step down reverts only the newest migration…
    store.migrate_down(1).await.unwrap();
    let after_one = tables(&store).await;
    assert!(!after_one.iter().any(|t| t == "erased_people"));
    assert_eq!(after_one.len(), 12);
    // …and all the way down leaves nothing.
    let all = store.migration_status().await.unwrap().len() as u32;
    store.migrate_down(all).await.unwrap();
    assert!(tables(&store).await.is_empty());
    assert!(none_applied(&store).await);
    store.migrate_up().await.unwrap();
    assert_eq!(tables(&store).await.len(), 13);
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
