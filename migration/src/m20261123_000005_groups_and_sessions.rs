//! Groups (classes, teams, departments), who belongs to them and when, and their session schedules.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum People {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Groups {
    Table,
    Id,
    Name,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum GroupMembers {
    Table,
    Id,
    GroupId,
    PersonId,
    ValidFrom,
    ValidUntil,
}

#[derive(DeriveIden)]
enum SessionSchedules {
    Table,
    Id,
    GroupId,
    Name,
    Recurrence,
    StartTime,
    EndTime,
    EndsNextDay,
    TimeZone,
    Cameras,
    Locations,
    GraceMinutes,
    EarlyLeaveMinutes,
    WindowMinutes,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Groups::Table)
                    .if_not_exists()
                    .col(string_len(Groups::Id, 64).primary_key())
                    .col(string_len(Groups::Name, 200))
                    .col(timestamp_with_time_zone(Groups::CreatedAt))
                    .col(timestamp_with_time_zone(Groups::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(GroupMembers::Table)
                    .if_not_exists()
                    .col(uuid(GroupMembers::Id).primary_key())
                    .col(string_len(GroupMembers::GroupId, 64))
                    .col(string_len(GroupMembers::PersonId, 64))
                    // Open ends: a member since always, or until further notice.
                    .col(date_null(GroupMembers::ValidFrom))
                    .col(date_null(GroupMembers::ValidUntil))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_group_members_group")
                            .from(GroupMembers::Table, GroupMembers::GroupId)
                            .to(Groups::Table, Groups::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_group_members_person")
                            .from(GroupMembers::Table, GroupMembers::PersonId)
                            .to(People::Table, People::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_group_members_group_person")
                    .table(GroupMembers::Table)
                    .col(GroupMembers::GroupId)
                    .col(GroupMembers::PersonId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_group_members_person")
                    .table(GroupMembers::Table)
                    .col(GroupMembers::PersonId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SessionSchedules::Table)
                    .if_not_exists()
                    .col(string_len(SessionSchedules::Id, 64).primary_key())
                    .col(string_len(SessionSchedules::GroupId, 64))
                    .col(string_len(SessionSchedules::Name, 200))
                    // JSON: {"kind":"once","date":…} or {"kind":"weekly","days":[…],"from":…,"until":…}.
                    .col(text(SessionSchedules::Recurrence))
                    .col(string_len(SessionSchedules::StartTime, 8))
                    .col(string_len(SessionSchedules::EndTime, 8))
                    .col(boolean(SessionSchedules::EndsNextDay))
                    .col(string_len(SessionSchedules::TimeZone, 64))
                    // JSON array of camera ids; with no locations either, every camera counts.
                    .col(text(SessionSchedules::Cameras))
                    // JSON array of camera locations whose cameras count as well.
                    .col(text(SessionSchedules::Locations))
                    .col(integer(SessionSchedules::GraceMinutes))
                    .col(integer(SessionSchedules::EarlyLeaveMinutes))
                    .col(integer(SessionSchedules::WindowMinutes))
                    .col(big_integer(SessionSchedules::Version))
                    .col(timestamp_with_time_zone(SessionSchedules::CreatedAt))
                    .col(timestamp_with_time_zone(SessionSchedules::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_session_schedules_group")
                            .from(SessionSchedules::Table, SessionSchedules::GroupId)
                            .to(Groups::Table, Groups::Id)
                            // A group with sessions cannot be deleted: remove its schedules first.
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_session_schedules_group")
                    .table(SessionSchedules::Table)
                    .col(SessionSchedules::GroupId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            SessionSchedules::Table.into_iden(),
            GroupMembers::Table.into_iden(),
            Groups::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
