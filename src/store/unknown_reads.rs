//! Reading unknown faces and their clusters for review: newest first, crops by face.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use uuid::Uuid;

use super::Store;
use super::entities::{unknown_cluster as cluster, unknown_face as face};
use crate::review::ClusterStatus;

/// A cluster as people review it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusterSummary {
    pub cluster_id: Uuid,
    pub model_id: String,
    pub size: u32,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub cameras: Vec<String>,
    pub status: ClusterStatus,
    pub person_id: Option<String>,
}

/// One unknown face of a cluster.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnknownFaceSummary {
    pub face_id: Uuid,
    pub camera_id: String,
    pub frame_seq: i64,
    pub seen_at: DateTime<Utc>,
    pub nearest_distance: Option<f32>,
    pub has_crop: bool,
}

impl From<cluster::Model> for ClusterSummary {
    fn from(c: cluster::Model) -> Self {
        Self {
            cluster_id: c.cluster_id,
            model_id: c.model_id,
            size: c.size.max(0) as u32,
            first_seen: c.first_seen,
            last_seen: c.last_seen,
            // Written by `save_clusters` only; an unreadable list shows as none rather than failing a page.
            cameras: serde_json::from_str(&c.cameras).unwrap_or_default(),
            status: ClusterStatus::from_stored(&c.status),
            person_id: c.person_id,
        }
    }
}

impl Store {
    /// Clusters with `status` (any when `None`), last seen first, at most `limit`.
    pub async fn unknown_clusters(
        &self,
        status: Option<ClusterStatus>,
        limit: u64,
    ) -> Result<Vec<ClusterSummary>, sea_orm::DbErr> {
        let mut find = cluster::Entity::find();
        if let Some(status) = status {
            find = find.filter(cluster::Column::Status.eq(status.as_str()));
        }
        let rows = find
            .order_by_desc(cluster::Column::LastSeen)
            .order_by_asc(cluster::Column::ClusterId)
            .limit(limit)
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(ClusterSummary::from).collect())
    }

    /// A cluster and its faces in the order they were seen, or `None` if there is no such cluster.
    pub async fn unknown_cluster(
        &self,
        id: Uuid,
    ) -> Result<Option<(ClusterSummary, Vec<UnknownFaceSummary>)>, sea_orm::DbErr> {
        let Some(found) = cluster::Entity::find_by_id(id).one(&self.db).await? else {
            return Ok(None);
        };
        let faces = face::Entity::find()
            .select_only()
            .columns([
                face::Column::FaceId,
                face::Column::CameraId,
                face::Column::FrameSeq,
                face::Column::SeenAt,
                face::Column::NearestDistance,
            ])
            .expr_as(face::Column::CropJpeg.is_not_null(), "has_crop")
            .filter(face::Column::ClusterId.eq(id))
            .order_by_asc(face::Column::SeenAt)
            .order_by_asc(face::Column::FaceId)
            .into_tuple::<(Uuid, String, i64, DateTime<Utc>, Option<f32>, bool)>()
            .all(&self.db)
            .await?;
        let faces = faces
            .into_iter()
            .map(
                |(face_id, camera_id, frame_seq, seen_at, nearest_distance, has_crop)| UnknownFaceSummary {
                    face_id,
                    camera_id,
                    frame_seq,
                    seen_at,
                    nearest_distance,
                    has_crop,
                },
            )
            .collect();
        Ok(Some((found.into(), faces)))
    }

    /// How many clusters there are of each status, and how many open ones have at least
    /// `flag_after` faces.
    pub async fn review_queue(&self, flag_after: u32) -> Result<(Vec<(ClusterStatus, u64)>, u64), sea_orm::DbErr> {
        let rows: Vec<(String, i32)> = cluster::Entity::find()
            .select_only()
            .columns([cluster::Column::Status, cluster::Column::Size])
            .into_tuple()
            .all(&self.db)
            .await?;
        let mut counts = [ClusterStatus::Open, ClusterStatus::Assigned, ClusterStatus::Dismissed].map(|s| (s, 0u64));
        let mut flagged = 0;
        for (status, size) in rows {
            let status = ClusterStatus::from_stored(&status);
            if let Some((_, n)) = counts.iter_mut().find(|(s, _)| *s == status) {
                *n += 1;
            }
            if status == ClusterStatus::Open && size >= flag_after as i32 {
                flagged += 1;
            }
        }
        Ok((counts.to_vec(), flagged))
    }

    /// An unknown face's embedding and model, if it is stored.
    pub async fn unknown_face_embedding(
        &self,
        id: Uuid,
    ) -> Result<Option<(crate::domain::Embedding, String)>, sea_orm::DbErr> {
        let Some((bytes, model_id)) = face::Entity::find_by_id(id)
            .select_only()
            .columns([face::Column::Embedding, face::Column::ModelId])
            .into_tuple::<(Vec<u8>, String)>()
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        let embedding = crate::domain::Embedding::from_bytes(&bytes)
            .map_err(|e| sea_orm::DbErr::Custom(format!("unknown face {id}: {e}")))?;
        Ok(Some((embedding, model_id)))
    }

    /// The JPEG crop of an unknown face: `None` when the face is not stored (never seen, or
    /// deleted by retention), `Some(None)` when it came without one.
    pub async fn unknown_face_crop(&self, id: Uuid) -> Result<Option<Option<Vec<u8>>>, sea_orm::DbErr> {
        let crop = face::Entity::find_by_id(id)
            .select_only()
            .column(face::Column::CropJpeg)
            .into_tuple::<Option<Vec<u8>>>()
            .one(&self.db)
            .await?;
        Ok(crop)
    }
}
