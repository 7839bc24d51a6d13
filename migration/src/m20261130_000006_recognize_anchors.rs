//! The recognizers' anchors: per camera, the offset of its latest frame whose decisions depend on
//! that frame alone, so a recognizer that restarts (or takes over a partition) reads the camera
//! again from there and decides its open tracks exactly as an uninterrupted one.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RecognizeAnchors {
    Table,
    CameraId,
    FramePartition,
    FrameOffset,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RecognizeAnchors::Table)
                    .if_not_exists()
                    .col(string_len(RecognizeAnchors::CameraId, 64).primary_key())
                    .col(integer(RecognizeAnchors::FramePartition))
                    .col(big_integer(RecognizeAnchors::FrameOffset))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RecognizeAnchors::Table).if_exists().to_owned())
            .await
    }
}
