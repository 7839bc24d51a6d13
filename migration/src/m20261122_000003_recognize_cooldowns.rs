//! The recognizers' cooldown ledger: when each camera last emitted each person, so a recognizer
//! that restarts (or takes over a partition) suppresses exactly what an uninterrupted one would.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RecognizeCooldowns {
    Table,
    CameraId,
    PersonId,
    LastEmittedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RecognizeCooldowns::Table)
                    .if_not_exists()
                    .col(string_len(RecognizeCooldowns::CameraId, 64))
                    .col(string_len(RecognizeCooldowns::PersonId, 64))
                    .col(timestamp_with_time_zone(RecognizeCooldowns::LastEmittedAt))
                    .primary_key(
                        Index::create()
                            .col(RecognizeCooldowns::CameraId)
                            .col(RecognizeCooldowns::PersonId),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RecognizeCooldowns::Table).if_exists().to_owned())
            .await
    }
}
