//! Web console sign-ins: one row per session cookie, found by the SHA-256 of the cookie's secret
//! (the secret itself is never stored), with the API key it was opened with, the form token that
//! its forms must carry, and when it ends.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ConsoleSessions {
    Table,
    Digest,
    KeyName,
    FormToken,
    CreatedAt,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ConsoleSessions::Table)
                    .if_not_exists()
                    .col(string_len(ConsoleSessions::Digest, 64).primary_key())
                    .col(string_len(ConsoleSessions::KeyName, 100))
                    .col(string_len(ConsoleSessions::FormToken, 64))
                    .col(timestamp_with_time_zone(ConsoleSessions::CreatedAt))
                    .col(timestamp_with_time_zone(ConsoleSessions::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        // Expired sessions are swept by their end time.
        manager
            .create_index(
                Index::create()
                    .name("idx_console_sessions_expires_at")
                    .table(ConsoleSessions::Table)
                    .col(ConsoleSessions::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ConsoleSessions::Table).if_exists().to_owned())
            .await
    }
}
