//! Low-confidence matches kept for review: an accepted match within `review.match_margin` of the
//! threshold is stored beside the unknown faces, with the person it was taken for, and joins no
//! cluster (someone was named; people confirm or refuse it).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum UnknownFaces {
    Table,
    MatchedPersonId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(UnknownFaces::Table)
                    .add_column(string_len_null(UnknownFaces::MatchedPersonId, 64))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_unknown_faces_matched_person")
                    .table(UnknownFaces::Table)
                    .col(UnknownFaces::MatchedPersonId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_unknown_faces_matched_person")
                    .table(UnknownFaces::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(UnknownFaces::Table)
                    .drop_column(UnknownFaces::MatchedPersonId)
                    .to_owned(),
            )
            .await
    }
}
