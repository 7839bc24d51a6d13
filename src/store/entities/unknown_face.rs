//! `unknown_faces`: a face nobody in the gallery matched (one per unknown track), or one matched
//! with low confidence, kept with its crop and embedding for review until retention deletes it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "unknown_faces")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub face_id: Uuid,
    pub camera_id: String,
    pub frame_seq: i64,
    pub seen_at: DateTimeUtc,
    pub box_x: i32,
    pub box_y: i32,
    pub box_w: i32,
    pub box_h: i32,
    pub nearest_distance: Option<f32>,
    pub model_id: String,
    /// Little-endian f32s (see `Embedding::to_bytes`).
    pub embedding: Vec<u8>,
    /// JPEG of at most 160 px a side.
    pub crop_jpeg: Option<Vec<u8>>,
    pub cluster_id: Option<Uuid>,
    /// The person it was assigned to in review.
    pub person_id: Option<String>,
    /// A low-confidence match: the person it was accepted as (such a face joins no cluster).
    pub matched_person_id: Option<String>,
    pub recorded_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
