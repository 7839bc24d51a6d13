//! Low-confidence matches kept for review: faces accepted as someone within `review.match_margin`
//! of the threshold. People confirm one (it was them) or mark it "not this person"; either way it
//! leaves the list.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use uuid::Uuid;

use super::Store;
use super::entities::unknown_face as face;
use crate::domain::PersonId;

/// A face accepted as `person_id` with little room to spare.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatchedFace {
    pub face_id: Uuid,
    pub person_id: String,
    pub camera_id: String,
    pub frame_seq: i64,
    pub seen_at: DateTime<Utc>,
    /// The match's distance (just under the threshold).
    pub distance: Option<f32>,
    pub has_crop: bool,
}

impl Store {
    /// Low-confidence matches waiting for a decision (of `person` only, if given), newest first.
    pub async fn low_confidence_matches(
        &self,
        person: Option<&PersonId>,
        limit: u64,
    ) -> Result<Vec<MatchedFace>, sea_orm::DbErr> {
        let mut find = face::Entity::find()
            .select_only()
            .columns([
                face::Column::FaceId,
                face::Column::MatchedPersonId,
                face::Column::CameraId,
                face::Column::FrameSeq,
                face::Column::SeenAt,
                face::Column::NearestDistance,
            ])
            .expr_as(face::Column::CropJpeg.is_not_null(), "has_crop")
            .filter(face::Column::MatchedPersonId.is_not_null());
        if let Some(person) = person {
            find = find.filter(face::Column::MatchedPersonId.eq(person.as_str()));
        }
        let rows = find
            .order_by_desc(face::Column::SeenAt)
            .order_by_asc(face::Column::FaceId)
            .limit(limit)
            .into_tuple::<(Uuid, String, String, i64, DateTime<Utc>, Option<f32>, bool)>()
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(
                |(face_id, person_id, camera_id, frame_seq, seen_at, distance, has_crop)| MatchedFace {
                    face_id,
                    person_id,
                    camera_id,
                    frame_seq,
                    seen_at,
                    distance,
                    has_crop,
                },
            )
            .collect())
    }

    /// The person a low-confidence match was accepted as, if `face` is one.
    pub async fn matched_person(&self, face: Uuid) -> Result<Option<String>, sea_orm::DbErr> {
        Ok(face::Entity::find_by_id(face)
            .select_only()
            .column(face::Column::MatchedPersonId)
            .into_tuple::<Option<String>>()
            .one(&self.db)
            .await?
            .flatten())
    }

    /// Takes a low-confidence match of `person` out of review (decided); false if there is none.
    pub async fn resolve_match(&self, face: Uuid, person: &PersonId) -> Result<bool, sea_orm::DbErr> {
        let deleted = face::Entity::delete_many()
            .filter(face::Column::FaceId.eq(face))
            .filter(face::Column::MatchedPersonId.eq(person.as_str()))
            .exec(&self.db)
            .await?;
        Ok(deleted.rows_affected == 1)
    }
}
