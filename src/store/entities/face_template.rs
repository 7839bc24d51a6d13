//! `face_templates`: enrolled embeddings, several per person, tagged with the model that made them.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "face_templates")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub person_id: String,
    pub model_id: String,
    /// 128 little-endian f32s (see `Embedding::to_bytes`).
    pub embedding: Vec<u8>,
    pub quality: f32,
    pub source: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
