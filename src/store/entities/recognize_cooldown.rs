//! `recognize_cooldowns`: the last event each camera emitted for each person (the cooldown ledger).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "recognize_cooldowns")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub camera_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub person_id: String,
    pub last_emitted_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
