//! Generations of cached keys: bumped with the data they cover, so a reader never finds an entry
//! whose invalidation was lost while Redis was down.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CacheGenerations {
    Table,
    Key,
    Generation,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CacheGenerations::Table)
                    .if_not_exists()
                    .col(string_len(CacheGenerations::Key, 200).primary_key())
                    .col(big_integer(CacheGenerations::Generation))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CacheGenerations::Table).if_exists().to_owned())
            .await
    }
}
