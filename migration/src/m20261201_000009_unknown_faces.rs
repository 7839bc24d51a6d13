//! Unknown faces kept for review (face crop and embedding, short retention) and the clusters
//! they are grouped into.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum UnknownFaces {
    Table,
    FaceId,
    CameraId,
    FrameSeq,
    SeenAt,
    BoxX,
    BoxY,
    BoxW,
    BoxH,
    NearestDistance,
    ModelId,
    Embedding,
    CropJpeg,
    ClusterId,
    /// The person it was assigned to in review: its crop became their template.
    PersonId,
    RecordedAt,
}

#[derive(DeriveIden)]
enum UnknownClusters {
    Table,
    ClusterId,
    ModelId,
    /// Sum of the member embeddings: the centroid is this over `size`, kept exact as faces join.
    EmbeddingSum,
    Size,
    FirstSeen,
    LastSeen,
    /// The cameras that saw its faces, sorted, as a JSON array.
    Cameras,
    /// `open`, `assigned` or `dismissed`.
    Status,
    PersonId,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(UnknownClusters::Table)
                    .if_not_exists()
                    .col(uuid(UnknownClusters::ClusterId).primary_key())
                    .col(string_len(UnknownClusters::ModelId, 64))
                    .col(blob(UnknownClusters::EmbeddingSum))
                    .col(integer(UnknownClusters::Size))
                    .col(timestamp_with_time_zone(UnknownClusters::FirstSeen))
                    .col(timestamp_with_time_zone(UnknownClusters::LastSeen))
                    .col(text(UnknownClusters::Cameras))
                    .col(
                        string_len(UnknownClusters::Status, 16).check(Expr::col(UnknownClusters::Status).is_in([
                            "open",
                            "assigned",
                            "dismissed",
                        ])),
                    )
                    .col(string_len_null(UnknownClusters::PersonId, 64))
                    .col(timestamp_with_time_zone(UnknownClusters::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_unknown_clusters_status_last_seen")
                    .table(UnknownClusters::Table)
                    .col(UnknownClusters::Status)
                    .col(UnknownClusters::LastSeen)
                    .to_owned(),
            )
            .await?;
        // Faces keep no foreign key to their cluster: clusters are recomputable from the faces,
        // and a recomputation replaces them all.
        manager
            .create_table(
                Table::create()
                    .table(UnknownFaces::Table)
                    .if_not_exists()
                    .col(uuid(UnknownFaces::FaceId).primary_key())
                    .col(string_len(UnknownFaces::CameraId, 64))
                    .col(big_integer(UnknownFaces::FrameSeq))
                    .col(timestamp_with_time_zone(UnknownFaces::SeenAt))
                    .col(integer(UnknownFaces::BoxX))
                    .col(integer(UnknownFaces::BoxY))
                    .col(integer(UnknownFaces::BoxW))
                    .col(integer(UnknownFaces::BoxH))
                    .col(float_null(UnknownFaces::NearestDistance))
                    .col(string_len(UnknownFaces::ModelId, 64))
                    .col(blob(UnknownFaces::Embedding))
                    .col(blob_null(UnknownFaces::CropJpeg))
                    .col(uuid_null(UnknownFaces::ClusterId))
                    .col(string_len_null(UnknownFaces::PersonId, 64))
                    .col(timestamp_with_time_zone(UnknownFaces::RecordedAt))
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_unknown_faces_cluster", UnknownFaces::ClusterId),
            ("idx_unknown_faces_seen", UnknownFaces::SeenAt),
            ("idx_unknown_faces_person", UnknownFaces::PersonId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(UnknownFaces::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(UnknownFaces::Table).if_exists().to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(UnknownClusters::Table).if_exists().to_owned())
            .await
    }
}
