//! Reading a store in the tests: waiting for attendance to arrive, rows per table, and the
//! attendance as comparable between two runs.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use rollcall::store::Store;
use rollcall::store::entities::{
    attendance_day, attendance_event, attendance_retraction, audit_entry, cache_generation, camera, face_template,
    group, group_member, person, recognize_cooldown, session_schedule,
};
use sea_orm::{EntityTrait, PaginatorTrait};

/// Polls the store until the set of people with attendance equals `expected`.
pub async fn wait_for_people(store: &Store, expected: &BTreeSet<String>, within: Duration) {
    let start = Instant::now();
    loop {
        let present: BTreeSet<String> = store
            .attendance_days()
            .await
            .unwrap()
            .into_iter()
            .map(|d| d.person_id)
            .collect();
        if &present == expected {
            return;
        }
        assert!(
            start.elapsed() < within,
            "after {within:?} the store has {present:?}, expected {expected:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Rows per table, in a fixed order.
pub async fn counts(store: &Store) -> Vec<(&'static str, u64)> {
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
            "attendance_retractions",
            attendance_retraction::Entity::find().count(db).await.unwrap(),
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
        ("groups", group::Entity::find().count(db).await.unwrap()),
        ("group_members", group_member::Entity::find().count(db).await.unwrap()),
        (
            "session_schedules",
            session_schedule::Entity::find().count(db).await.unwrap(),
        ),
    ]
}

/// An attendance event as seen: id, person, camera, frame and time seen.
pub type SeenEvent = (uuid::Uuid, String, String, i64, String);

/// Events without the time they were stored (a replay stores them again, later), sorted.
pub async fn events_as_seen(store: &Store) -> Vec<SeenEvent> {
    let mut rows: Vec<_> = store
        .attendance_events()
        .await
        .unwrap()
        .into_iter()
        .map(|e| {
            (
                e.event_id,
                e.person_id,
                e.camera_id,
                e.frame_seq,
                e.seen_at.to_rfc3339(),
            )
        })
        .collect();
    rows.sort();
    rows
}

/// What must be equal between two runs: every event as seen, and every day row.
pub async fn tables(store: &Store) -> (Vec<SeenEvent>, Vec<rollcall::store::AttendanceRow>) {
    (events_as_seen(store).await, store.attendance_days().await.unwrap())
}
