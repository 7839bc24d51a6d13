//! `session_schedules`: when a group's sessions are, in which time zone, and what counts in them.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "session_schedules")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub group_id: String,
    pub name: String,
    #[sea_orm(column_type = "Text")]
    pub recurrence: String,
    pub start_time: String,
    pub end_time: String,
    pub ends_next_day: bool,
    pub time_zone: String,
    #[sea_orm(column_type = "Text")]
    pub cameras: String,
    #[sea_orm(column_type = "Text")]
    pub locations: String,
    pub grace_minutes: i32,
    pub early_leave_minutes: i32,
    pub window_minutes: i32,
    pub version: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
