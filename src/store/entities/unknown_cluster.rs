//! `unknown_clusters`: unknown faces that look alike, grouped for review; the id is the id of
//! its first face.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "unknown_clusters")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub cluster_id: Uuid,
    pub model_id: String,
    /// Sum of the members' embeddings as little-endian f32s: the centroid is it over `size`.
    pub embedding_sum: Vec<u8>,
    pub size: i32,
    pub first_seen: DateTimeUtc,
    pub last_seen: DateTimeUtc,
    /// Sorted camera ids as a JSON array.
    pub cameras: String,
    /// `open`, `assigned` or `dismissed`.
    pub status: String,
    pub person_id: Option<String>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
