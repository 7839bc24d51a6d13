//! Tombstones of erased people: a keyed digest of the id and when they were erased, so that a
//! redelivered, in-flight or replayed event cannot bring their attendance back.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ErasedPeople {
    Table,
    PersonDigest,
    ErasedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ErasedPeople::Table)
                    .if_not_exists()
                    .col(string_len(ErasedPeople::PersonDigest, 64).primary_key())
                    .col(timestamp_with_time_zone(ErasedPeople::ErasedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ErasedPeople::Table).if_exists().to_owned())
            .await
    }
}
