//! Retracted attendance: one row per event taken back, with who, why and the event's person,
//! camera and time. The event itself leaves `attendance_events`; an event arriving after its
//! retraction (a redelivery, or a replay that reads the retraction first) is dropped by this row.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AttendanceRetractions {
    Table,
    EventId,
    CorrectionId,
    PersonId,
    CameraId,
    SeenAt,
    Actor,
    Reason,
    CorrectedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AttendanceRetractions::Table)
                    .if_not_exists()
                    .col(uuid(AttendanceRetractions::EventId).primary_key())
                    .col(uuid_uniq(AttendanceRetractions::CorrectionId))
                    .col(string_len(AttendanceRetractions::PersonId, 64))
                    .col(string_len(AttendanceRetractions::CameraId, 64))
                    .col(timestamp_with_time_zone(AttendanceRetractions::SeenAt))
                    .col(string_len(AttendanceRetractions::Actor, 100))
                    .col(string_len(AttendanceRetractions::Reason, 200))
                    .col(timestamp_with_time_zone(AttendanceRetractions::CorrectedAt))
                    .to_owned(),
            )
            .await?;
        // Each projected batch asks for the retractions within its time span.
        manager
            .create_index(
                Index::create()
                    .name("idx_attendance_retractions_seen_at")
                    .table(AttendanceRetractions::Table)
                    .col(AttendanceRetractions::SeenAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AttendanceRetractions::Table).if_exists().to_owned())
            .await
    }
}
