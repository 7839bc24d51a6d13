//! `notification_channels`: where notifications go (a webhook endpoint, or the MQTT broker).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "notification_channels")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub channel_id: String,
    /// `webhook` or `mqtt`.
    pub kind: String,
    pub url: String,
    /// The webhook's signing secret (empty for MQTT).
    pub secret: String,
    /// JSON list of the notification kinds it takes.
    pub events: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
