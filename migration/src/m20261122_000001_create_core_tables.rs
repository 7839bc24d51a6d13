//! The first schema: people, face templates, cameras, attendance events and attendance days.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum People {
    Table,
    Id,
    DisplayName,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum FaceTemplates {
    Table,
    Id,
    PersonId,
    ModelId,
    Embedding,
    Quality,
    Source,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Cameras {
    Table,
    Id,
    Name,
    Location,
    Role,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AttendanceEvents {
    Table,
    EventId,
    PersonId,
    CameraId,
    FrameSeq,
    SeenAt,
    Distance,
    Similarity,
    BoxX,
    BoxY,
    BoxW,
    BoxH,
    ModelId,
    SchemaVersion,
    RecordedAt,
}

#[derive(DeriveIden)]
enum AttendanceDays {
    Table,
    PersonId,
    Day,
    FirstSeen,
    LastSeen,
    FirstCamera,
    LastCamera,
    EventCount,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(People::Table)
                    .if_not_exists()
                    .col(string_len(People::Id, 64).primary_key())
                    .col(string_len(People::DisplayName, 200))
                    .col(timestamp_with_time_zone(People::CreatedAt))
                    .col(timestamp_with_time_zone(People::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(FaceTemplates::Table)
                    .if_not_exists()
                    .col(uuid(FaceTemplates::Id).primary_key())
                    .col(string_len(FaceTemplates::PersonId, 64))
                    .col(string_len(FaceTemplates::ModelId, 64))
                    .col(blob(FaceTemplates::Embedding))
                    .col(float(FaceTemplates::Quality))
                    .col(string_len(FaceTemplates::Source, 500))
                    .col(timestamp_with_time_zone(FaceTemplates::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_face_templates_person")
                            .from(FaceTemplates::Table, FaceTemplates::PersonId)
                            .to(People::Table, People::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_face_templates_model_person")
                    .table(FaceTemplates::Table)
                    .col(FaceTemplates::ModelId)
                    .col(FaceTemplates::PersonId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Cameras::Table)
                    .if_not_exists()
                    .col(string_len(Cameras::Id, 64).primary_key())
                    .col(string_len(Cameras::Name, 200))
                    .col(string_len(Cameras::Location, 200))
                    .col(string_len(Cameras::Role, 8).check(Expr::col(Cameras::Role).is_in(["entry", "exit", "both"])))
                    .col(timestamp_with_time_zone(Cameras::CreatedAt))
                    .to_owned(),
            )
            .await?;

        // Events keep no foreign key to people: the log of what was seen must accept an event
        // whose person is erased or not yet replicated, and erasure deletes explicitly.
        manager
            .create_table(
                Table::create()
                    .table(AttendanceEvents::Table)
                    .if_not_exists()
                    .col(uuid(AttendanceEvents::EventId).primary_key())
                    .col(string_len(AttendanceEvents::PersonId, 64))
                    .col(string_len(AttendanceEvents::CameraId, 64))
                    .col(big_integer(AttendanceEvents::FrameSeq))
                    .col(timestamp_with_time_zone(AttendanceEvents::SeenAt))
                    .col(float(AttendanceEvents::Distance))
                    .col(float(AttendanceEvents::Similarity))
                    .col(integer(AttendanceEvents::BoxX))
                    .col(integer(AttendanceEvents::BoxY))
                    .col(integer(AttendanceEvents::BoxW))
                    .col(integer(AttendanceEvents::BoxH))
                    .col(string_len(AttendanceEvents::ModelId, 64))
                    .col(small_integer(AttendanceEvents::SchemaVersion))
                    .col(timestamp_with_time_zone(AttendanceEvents::RecordedAt))
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            (
                "idx_attendance_events_person_seen",
                [AttendanceEvents::PersonId, AttendanceEvents::SeenAt],
            ),
            (
                "idx_attendance_events_camera_seen",
                [AttendanceEvents::CameraId, AttendanceEvents::SeenAt],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(AttendanceEvents::Table);
            for col in cols {
                index.col(col);
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_attendance_events_seen")
                    .table(AttendanceEvents::Table)
                    .col(AttendanceEvents::SeenAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AttendanceDays::Table)
                    .if_not_exists()
                    .col(string_len(AttendanceDays::PersonId, 64))
                    .col(date(AttendanceDays::Day))
                    .col(timestamp_with_time_zone(AttendanceDays::FirstSeen))
                    .col(timestamp_with_time_zone(AttendanceDays::LastSeen))
                    .col(string_len(AttendanceDays::FirstCamera, 64))
                    .col(string_len(AttendanceDays::LastCamera, 64))
                    .col(big_integer(AttendanceDays::EventCount))
                    .primary_key(Index::create().col(AttendanceDays::PersonId).col(AttendanceDays::Day))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_attendance_days_day_person")
                    .table(AttendanceDays::Table)
                    .col(AttendanceDays::Day)
                    .col(AttendanceDays::PersonId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AttendanceDays::Table).if_exists().to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(AttendanceEvents::Table).if_exists().to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Cameras::Table).if_exists().to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(FaceTemplates::Table).if_exists().to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(People::Table).if_exists().to_owned())
            .await?;
        Ok(())
    }
}
