//! Negative examples: faces marked "not this person" in review, which the matcher uses to refuse
//! matches of that person that look more like the face than like them.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PersonNegatives {
    Table,
    NegativeId,
    PersonId,
    ModelId,
    Embedding,
    /// Where it came from: an unknown face's id, or an uploaded photo's file name.
    Source,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PersonNegatives::Table)
                    .if_not_exists()
                    .col(uuid(PersonNegatives::NegativeId).primary_key())
                    .col(string_len(PersonNegatives::PersonId, 64))
                    .col(string_len(PersonNegatives::ModelId, 64))
                    .col(blob(PersonNegatives::Embedding))
                    .col(string_len(PersonNegatives::Source, 500))
                    .col(timestamp_with_time_zone(PersonNegatives::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_person_negatives_model_person")
                    .table(PersonNegatives::Table)
                    .col(PersonNegatives::ModelId)
                    .col(PersonNegatives::PersonId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PersonNegatives::Table).if_exists().to_owned())
            .await
    }
}
