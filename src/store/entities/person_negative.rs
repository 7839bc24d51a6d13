//! `person_negatives`: faces marked "not this person", which the matcher holds against them.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "person_negatives")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub negative_id: Uuid,
    pub person_id: String,
    pub model_id: String,
    /// Little-endian f32s (see `Embedding::to_bytes`).
    pub embedding: Vec<u8>,
    /// An unknown face's id, or an uploaded photo's file name.
    pub source: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
