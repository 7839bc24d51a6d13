//! Schema migrations of the rollcall store (PostgreSQL or SQLite), run by `rollcall migrate`.

pub use sea_orm_migration::MigrationStatus;
pub use sea_orm_migration::prelude::*;

mod m20261122_000001_create_core_tables;
mod m20261122_000002_cache_generations;
mod m20261122_000003_recognize_cooldowns;
mod m20261122_000004_audit_log;
mod m20261123_000005_groups_and_sessions;
mod m20261130_000006_recognize_anchors;
mod m20261201_000007_erased_people;
mod m20261201_000008_drop_camera_seen_index;
mod m20261201_000009_unknown_faces;
mod m20261201_000010_person_negatives;
mod m20261202_000011_attendance_retractions;
mod m20261202_000012_low_confidence_matches;
mod m20261202_000013_notifications;
mod m20261206_000014_console_sessions;

/// All migrations, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_create_core_tables::Migration),
            Box::new(m20261122_000002_cache_generations::Migration),
            Box::new(m20261122_000003_recognize_cooldowns::Migration),
            Box::new(m20261122_000004_audit_log::Migration),
            Box::new(m20261123_000005_groups_and_sessions::Migration),
            Box::new(m20261130_000006_recognize_anchors::Migration),
            Box::new(m20261201_000007_erased_people::Migration),
            Box::new(m20261201_000008_drop_camera_seen_index::Migration),
            Box::new(m20261201_000009_unknown_faces::Migration),
            Box::new(m20261201_000010_person_negatives::Migration),
            Box::new(m20261202_000011_attendance_retractions::Migration),
            Box::new(m20261202_000012_low_confidence_matches::Migration),
            Box::new(m20261202_000013_notifications::Migration),
            Box::new(m20261206_000014_console_sessions::Migration),
        ]
    }
}
