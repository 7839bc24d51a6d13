//! `attendance_events`: every attendance event once, keyed by its deterministic id.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "attendance_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub event_id: Uuid,
    pub person_id: String,
    pub camera_id: String,
    pub frame_seq: i64,
    pub seen_at: DateTimeUtc,
    pub distance: f32,
    pub similarity: f32,
    pub box_x: i32,
    pub box_y: i32,
    pub box_w: i32,
    pub box_h: i32,
    pub model_id: String,
    pub schema_version: i16,
    pub recorded_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
