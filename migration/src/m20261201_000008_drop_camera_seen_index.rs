//! Drops `idx_attendance_events_camera_seen`: no query reads events by camera and time (the
//! per-camera counts of a day filter on `seen_at` alone), and every projected event paid for it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AttendanceEvents {
    Table,
    CameraId,
    SeenAt,
}

const INDEX: &str = "idx_attendance_events_camera_seen";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(INDEX)
                    .table(AttendanceEvents::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(AttendanceEvents::Table)
                    .col(AttendanceEvents::CameraId)
                    .col(AttendanceEvents::SeenAt)
                    .to_owned(),
            )
            .await
    }
}
