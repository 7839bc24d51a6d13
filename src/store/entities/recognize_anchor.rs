//! `recognize_anchors`: per camera, where a restarted recognizer reads its frames again from.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "recognize_anchors")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub camera_id: String,
    pub frame_partition: i32,
    pub frame_offset: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
