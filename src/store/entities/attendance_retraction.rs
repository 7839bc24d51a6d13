//! `attendance_retractions`: attendance events taken back, with who, why, and the event's person,
//! camera and time.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "attendance_retractions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub event_id: Uuid,
    #[sea_orm(unique)]
    pub correction_id: Uuid,
    pub person_id: String,
    pub camera_id: String,
    pub seen_at: DateTimeUtc,
    pub actor: String,
    pub reason: String,
    pub corrected_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
