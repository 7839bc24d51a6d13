//! The audit log: who changed whom, when, and what was removed. Never biometric data.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    At,
    Actor,
    Action,
    Subject,
    Details,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .if_not_exists()
                    .col(uuid(AuditLog::Id).primary_key())
                    .col(timestamp_with_time_zone(AuditLog::At))
                    .col(string_len(AuditLog::Actor, 100))
                    .col(string_len(AuditLog::Action, 40))
                    .col(string_len(AuditLog::Subject, 64))
                    .col(text(AuditLog::Details))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("audit_log_subject_at")
                    .table(AuditLog::Table)
                    .col(AuditLog::Subject)
                    .col(AuditLog::At)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditLog::Table).if_exists().to_owned())
            .await
    }
}
