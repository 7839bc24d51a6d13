//! Operations a site runs over the years: moving the embedded SQLite store into PostgreSQL,
//! rebuilding projections from the attendance topic, and retention.

use rollcall::store::Store;
use rollcall::store::entities::{
    attendance_day, attendance_event, audit_entry, cache_generation, camera, face_template, person, recognize_cooldown,
};
use sea_orm::{EntityTrait, PaginatorTrait};
use tokio_util::sync::CancellationToken;

use crate::postgres::TestDatabase;
use crate::support::*;

/// Rows per table, in a fixed order.
async fn counts(store: &Store) -> Vec<(&'static str, u64)> {
    let db = store.connection();
    vec![
        ("people", person::Entity::find().count(db).await.unwrap()),
        ("cameras", camera::Entity::find().count(db).await.unwrap()),
        ("face_templates", face_template::Entity::find().count(db).await.unwrap()),
        (
            "attendance_events",
            attendance_event::Entity::find().count(db).await.unwrap(),
        ),
        (
            "attendance_days",
            attendance_day::Entity::find().count(db).await.unwrap(),
        ),
        (
            "cache_generations",
            cache_generation::Entity::find().count(db).await.unwrap(),
        ),
        (
            "recognize_cooldowns",
            recognize_cooldown::Entity::find().count(db).await.unwrap(),
        ),
        ("audit_log", audit_entry::Entity::find().count(db).await.unwrap()),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_store_moves_a_populated_sqlite_store_into_postgresql() {
    let work = tempfile::tempdir().unwrap();
    let config = config(work.path());
    crate::pipeline::enrol_and_film(&config, work.path()).await;
    rollcall::pipeline::run_embedded(&config, CancellationToken::new())
        .await
        .unwrap();
    let sqlite = Store::open(&config.store.url, 1).await.unwrap();
    // What the API and the Kafka recognizer add: an audit entry and the cooldown ledger.
    sqlite
        .audit(
            "ops",
            "person.renamed",
            "obama",
            serde_json::json!({ "display_name": "Barack Obama" }),
        )
        .await
        .unwrap();
    let seen = rollcall::domain::CameraId::parse("front-door").unwrap();
    let obama = rollcall::domain::PersonId::parse("obama").unwrap();
    sqlite
        .record_emissions(&[(seen, obama, chrono::Utc::now())])
        .await
        .unwrap();
    let before = counts(&sqlite).await;
    assert!(
        before.iter().all(|(_, n)| *n > 0),
        "every table has rows to move: {before:?}"
    );

    let db = TestDatabase::create().await;
    let migrate = |from: &str| {
        rollcall(work.path())
            .env("ROLLCALL__STORE__URL", &db.url)
            .args(["migrate-store", "--from", from])
            .output()
            .unwrap()
    };
    let moved = migrate(&config.store.url);
    let said = String::from_utf8_lossy(&moved.stdout);
    assert!(
        moved.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&moved.stderr)
    );
    assert!(said.contains("attendance_events"), "{said}");

    let postgres = Store::open(&db.url, 2).await.unwrap();
    assert_eq!(counts(&postgres).await, before);
    assert_eq!(
        postgres.attendance_days().await.unwrap(),
        sqlite.attendance_days().await.unwrap()
    );
    assert_eq!(
        postgres.attendance_events().await.unwrap(),
        sqlite.attendance_events().await.unwrap()
    );
    let (a, b) = (
        postgres.load_gallery(&config.models.recognizer).await.unwrap(),
        sqlite.load_gallery(&config.models.recognizer).await.unwrap(),
    );
    assert_eq!((a.len(), a.people()), (b.len(), b.people()));

    // Again into the now populated database: refused, and nothing changes.
    let again = migrate(&config.store.url);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("the target store is not empty"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(counts(&postgres).await, before);
    // A source that does not exist is not created empty.
    let missing = migrate(&format!("sqlite://{}/nothing.db?mode=rwc", work.path().display()));
    assert!(!missing.status.success());
    assert!(!work.path().join("nothing.db").exists());
    drop(postgres);
    db.drop_now().await;
}
