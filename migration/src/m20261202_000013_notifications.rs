//! Notifications out: the channels they go to (webhook endpoints, the MQTT broker), the outbox of
//! notifications (each once, under its idempotency key) and one delivery per notification and
//! channel, retried until delivered or given up, so nothing is lost across restarts.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum NotificationChannels {
    Table,
    ChannelId,
    Kind,
    Url,
    Secret,
    /// JSON list of the notification kinds it takes.
    Events,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    NotificationId,
    Kind,
    Subject,
    PersonId,
    Payload,
    CreatedAt,
}

#[derive(DeriveIden)]
enum NotificationDeliveries {
    Table,
    DeliveryId,
    NotificationId,
    ChannelId,
    Status,
    Attempts,
    NextAttemptAt,
    LastError,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(NotificationChannels::Table)
                    .if_not_exists()
                    .col(string_len(NotificationChannels::ChannelId, 64).primary_key())
                    .col(string_len(NotificationChannels::Kind, 16))
                    .col(string_len(NotificationChannels::Url, 2000))
                    .col(string_len(NotificationChannels::Secret, 200))
                    .col(text(NotificationChannels::Events))
                    .col(timestamp_with_time_zone(NotificationChannels::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Notifications::Table)
                    .if_not_exists()
                    .col(uuid(Notifications::NotificationId).primary_key())
                    .col(string_len(Notifications::Kind, 40))
                    .col(string_len(Notifications::Subject, 200))
                    .col(string_len_null(Notifications::PersonId, 64))
                    .col(text(Notifications::Payload))
                    .col(timestamp_with_time_zone(Notifications::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(NotificationDeliveries::Table)
                    .if_not_exists()
                    .col(uuid(NotificationDeliveries::DeliveryId).primary_key())
                    .col(uuid(NotificationDeliveries::NotificationId))
                    .col(string_len(NotificationDeliveries::ChannelId, 64))
                    .col(string_len(NotificationDeliveries::Status, 16))
                    .col(integer(NotificationDeliveries::Attempts))
                    .col(timestamp_with_time_zone(NotificationDeliveries::NextAttemptAt))
                    .col(text_null(NotificationDeliveries::LastError))
                    .col(timestamp_with_time_zone(NotificationDeliveries::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        for (name, table, columns) in [
            (
                "idx_notifications_person",
                Notifications::Table.into_iden(),
                vec![Notifications::PersonId.into_iden()],
            ),
            (
                "idx_notifications_created",
                Notifications::Table.into_iden(),
                vec![Notifications::CreatedAt.into_iden()],
            ),
            (
                "idx_notification_deliveries_due",
                NotificationDeliveries::Table.into_iden(),
                vec![
                    NotificationDeliveries::Status.into_iden(),
                    NotificationDeliveries::NextAttemptAt.into_iden(),
                ],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(table);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("uq_notification_deliveries_pair")
                    .table(NotificationDeliveries::Table)
                    .col(NotificationDeliveries::NotificationId)
                    .col(NotificationDeliveries::ChannelId)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            NotificationDeliveries::Table.into_iden(),
            Notifications::Table.into_iden(),
            NotificationChannels::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
