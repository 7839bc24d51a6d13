//! Unknown faces kept for review: written in idempotent batches by the review projector, each
//! new face put in a cluster in the same transaction. On PostgreSQL the batch holds an advisory
//! lock while it clusters, so two projectors never grow the same clusters from stale copies.

use std::collections::{BTreeSet, HashSet};

use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Statement, TransactionTrait,
};
use uuid::Uuid;

use super::entities::{unknown_cluster as cluster, unknown_face as face};
use super::{BatchOutcome, Store};
use crate::domain::{Embedding, UnknownFaceEvent};
use crate::review::ClusterStatus;
use crate::review::clusters::{Cluster, FaceToCluster, assign};

/// The advisory lock of clustering: one batch (or recomputation) at a time.
const CLUSTERING_LOCK: i64 = 0x726f_6c6c_636c_7573; // "rollclus"

/// Ids per `IN (…)` list: well under PostgreSQL's 65,535 parameters.
pub(super) const IDS_PER_QUERY: usize = 1_000;

/// Faces per INSERT: 15 values each, well under the 32,766 bound values SQLite takes.
const ROWS_PER_INSERT: usize = 500;

pub(super) const OPEN: &str = ClusterStatus::Open.as_str();

impl Store {
    /// Stores the faces not stored yet and puts each in a cluster (faces within `cluster_distance`
    /// of an open cluster's centroid join it); a redelivered face changes nothing.
    pub async fn write_unknown_faces(
        &self,
        events: &[UnknownFaceEvent],
        cluster_distance: f32,
    ) -> Result<BatchOutcome, sea_orm::DbErr> {
        if events.is_empty() {
            return Ok(BatchOutcome::default());
        }
        let txn = self.db.begin().await?;
        lock_clustering(&txn).await?;
        let stored = stored_faces(&txn, events).await?;
        let mut seen = HashSet::new();
        let new: Vec<&UnknownFaceEvent> = events
            .iter()
            .filter(|e| {
                let id = e.face_id();
                !stored.contains(&id) && seen.insert(id)
            })
            .collect();
        if new.is_empty() {
            txn.commit().await?;
            return Ok(BatchOutcome {
                duplicates: events.len(),
                ..Default::default()
            });
        }
        // A low-confidence match names someone already: it is reviewed on its own, in no cluster.
        let (matched, unmatched): (Vec<&UnknownFaceEvent>, Vec<&UnknownFaceEvent>) =
            new.iter().copied().partition(|e| e.matched_person_id.is_some());
        let models: BTreeSet<&str> = unmatched.iter().map(|e| e.model_id.as_str()).collect();
        let mut clusters = open_clusters(&txn, &models).await?;
        let mut faces: Vec<FaceToCluster<'_>> = unmatched.iter().map(|e| to_cluster(e)).collect();
        let assigned = assign(&mut clusters, &mut faces, cluster_distance);
        let recorded_at = super::now();
        let mut rows: Vec<(&UnknownFaceEvent, Option<Uuid>)> = unmatched
            .iter()
            .copied()
            .zip(ids_in_event_order(&unmatched, &assigned).into_iter().map(Some))
            .collect();
        rows.extend(matched.iter().map(|e| (*e, None)));
        // Rows per statement: well under either database's limit on bound values, whatever the batch size.
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            let rows = chunk
                .iter()
                .map(|(e, cluster_id)| face_row(e, *cluster_id, recorded_at))
                .collect::<Result<Vec<_>, sea_orm::DbErr>>()?;
            face::Entity::insert_many(rows)
                .on_conflict(OnConflict::column(face::Column::FaceId).do_nothing().to_owned())
                .exec_without_returning(&txn)
                .await?;
        }
        save_clusters(&txn, &clusters).await?;
        txn.commit().await?;
        Ok(BatchOutcome {
            inserted: new.len(),
            duplicates: events.len() - new.len(),
            ..Default::default()
        })
    }
}

impl Store {
    /// Deletes the unknown faces seen before `cutoff`, `batch` a transaction, and brings their
    /// clusters up to date (deleted once empty). Returns (faces, clusters) deleted.
    pub async fn delete_unknown_faces_before(
        &self,
        cutoff: chrono::DateTime<chrono::Utc>,
        batch: u64,
    ) -> Result<(u64, u64), sea_orm::DbErr> {
        let (mut faces, mut clusters) = (0, 0);
        loop {
            let txn = self.db.begin().await?;
            lock_clustering(&txn).await?;
            let oldest: Vec<(Uuid, Option<Uuid>)> = face::Entity::find()
                .select_only()
                .columns([face::Column::FaceId, face::Column::ClusterId])
                .filter(face::Column::SeenAt.lt(cutoff))
                .order_by_asc(face::Column::SeenAt)
                .limit(batch)
                .into_tuple()
                .all(&txn)
                .await?;
            if oldest.is_empty() {
                txn.commit().await?;
                return Ok((faces, clusters));
            }
            face::Entity::delete_many()
                .filter(face::Column::FaceId.is_in(oldest.iter().map(|(id, _)| *id)))
                .exec(&txn)
                .await?;
            let touched: BTreeSet<Uuid> = oldest.iter().filter_map(|(_, c)| *c).collect();
            clusters += refresh_clusters(&txn, &touched).await?;
            txn.commit().await?;
            faces += oldest.len() as u64;
        }
    }
}

/// Recomputes the size, centroid, times and cameras of clusters `ids` from the faces they
/// still hold, deleting those left with none; returns how many were deleted.
pub(super) async fn refresh_clusters(txn: &impl ConnectionTrait, ids: &BTreeSet<Uuid>) -> Result<u64, sea_orm::DbErr> {
    let mut deleted = 0;
    for id in ids {
        let Some(row) = cluster::Entity::find_by_id(*id).one(txn).await? else {
            continue;
        };
        let members = face::Entity::find()
            .filter(face::Column::ClusterId.eq(*id))
            .all(txn)
            .await?;
        let embeddings = embeddings_of(&members)?;
        let faces: Vec<FaceToCluster<'_>> = members
            .iter()
            .zip(&embeddings)
            .map(|(f, e)| stored_face(f, e))
            .collect();
        let Some(left) = Cluster::of_faces(*id, &faces) else {
            cluster::Entity::delete_by_id(*id).exec(txn).await?;
            deleted += 1;
            continue;
        };
        // Status and person stay as they are: only what the faces make is recomputed.
        let mut update: cluster::ActiveModel = row.into();
        update.embedding_sum = Set(sum_bytes(&left)?);
        update.size = Set(left.size as i32);
        update.first_seen = Set(left.first_seen);
        update.last_seen = Set(left.last_seen);
        update.cameras = Set(cameras_json(&left));
        update.updated_at = Set(super::now());
        cluster::Entity::update(update).exec(txn).await?;
    }
    Ok(deleted)
}

pub(super) async fn lock_clustering(txn: &impl ConnectionTrait) -> Result<(), sea_orm::DbErr> {
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        txn.execute_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [CLUSTERING_LOCK.into()],
        ))
        .await?;
    }
    Ok(())
}

fn face_row(
    e: &UnknownFaceEvent,
    cluster_id: Option<Uuid>,
    recorded_at: chrono::DateTime<chrono::Utc>,
) -> Result<face::ActiveModel, sea_orm::DbErr> {
    Ok(face::ActiveModel {
        face_id: Set(e.face_id()),
        camera_id: Set(e.camera_id.to_string()),
        frame_seq: Set(e.frame_seq as i64),
        seen_at: Set(e.seen_at),
        box_x: Set(e.face_box.x),
        box_y: Set(e.face_box.y),
        box_w: Set(e.face_box.w),
        box_h: Set(e.face_box.h),
        nearest_distance: Set(e.nearest_distance),
        model_id: Set(e.model_id.clone()),
        embedding: Set(e.embedding.to_bytes()),
        crop_jpeg: Set(e.crop_bytes().map_err(|why| sea_orm::DbErr::Custom(why.to_string()))?),
        cluster_id: Set(cluster_id),
        person_id: Set(None),
        matched_person_id: Set(e.matched_person_id.as_ref().map(|p| p.to_string())),
        recorded_at: Set(recorded_at),
    })
}

/// The embeddings of stored faces, as the clustering takes them.
pub(super) fn embeddings_of(members: &[face::Model]) -> Result<Vec<Vec<f32>>, sea_orm::DbErr> {
    members
        .iter()
        .map(|f| {
            Embedding::from_bytes(&f.embedding)
                .map(|e| e.values().to_vec())
                .map_err(|e| sea_orm::DbErr::Custom(format!("unknown face {}: {e}", f.face_id)))
        })
        .collect()
}

pub(super) fn stored_face<'a>(f: &'a face::Model, embedding: &'a [f32]) -> FaceToCluster<'a> {
    FaceToCluster {
        face_id: f.face_id,
        camera_id: &f.camera_id,
        seen_at: f.seen_at,
        model_id: &f.model_id,
        embedding,
    }
}

fn sum_bytes(c: &Cluster) -> Result<Vec<u8>, sea_orm::DbErr> {
    Embedding::new(c.embedding_sum.clone())
        .map(|e| e.to_bytes())
        .map_err(|e| sea_orm::DbErr::Custom(format!("cluster {}: {e}", c.cluster_id)))
}

fn cameras_json(c: &Cluster) -> String {
    serde_json::to_string(&c.cameras).expect("strings serialise")
}

fn to_cluster(e: &UnknownFaceEvent) -> FaceToCluster<'_> {
    FaceToCluster {
        face_id: e.face_id(),
        camera_id: e.camera_id.as_str(),
        seen_at: e.seen_at,
        model_id: &e.model_id,
        embedding: e.embedding.values(),
    }
}

/// The cluster of each of `new`, in its order (`assign` works in time order).
fn ids_in_event_order(new: &[&UnknownFaceEvent], assigned: &[(Uuid, Uuid)]) -> Vec<Uuid> {
    let by_face: std::collections::HashMap<Uuid, Uuid> = assigned.iter().copied().collect();
    new.iter().map(|e| by_face[&e.face_id()]).collect()
}

async fn stored_faces(
    txn: &impl ConnectionTrait,
    events: &[UnknownFaceEvent],
) -> Result<HashSet<Uuid>, sea_orm::DbErr> {
    let mut stored = HashSet::new();
    for chunk in events.chunks(IDS_PER_QUERY) {
        let ids: Vec<Uuid> = chunk.iter().map(UnknownFaceEvent::face_id).collect();
        let rows = face::Entity::find()
            .filter(face::Column::FaceId.is_in(ids))
            .all(txn)
            .await?;
        stored.extend(rows.into_iter().map(|f| f.face_id));
    }
    Ok(stored)
}

/// The open clusters of `models`, as the clustering takes them.
async fn open_clusters(txn: &impl ConnectionTrait, models: &BTreeSet<&str>) -> Result<Vec<Cluster>, sea_orm::DbErr> {
    let rows = cluster::Entity::find()
        .filter(cluster::Column::Status.eq(OPEN))
        .filter(cluster::Column::ModelId.is_in(models.iter().copied()))
        .order_by_asc(cluster::Column::ClusterId)
        .all(txn)
        .await?;
    rows.into_iter()
        .map(|c| {
            let sum = Embedding::from_bytes(&c.embedding_sum)
                .map_err(|e| sea_orm::DbErr::Custom(format!("cluster {}: {e}", c.cluster_id)))?;
            let cameras: BTreeSet<String> = serde_json::from_str(&c.cameras)
                .map_err(|e| sea_orm::DbErr::Custom(format!("cluster {} cameras: {e}", c.cluster_id)))?;
            Ok(Cluster {
                cluster_id: c.cluster_id,
                model_id: c.model_id,
                embedding_sum: sum.values().to_vec(),
                size: c.size.max(1) as u32,
                first_seen: c.first_seen,
                last_seen: c.last_seen,
                cameras,
                changed: false,
                new: false,
            })
        })
        .collect()
}

/// Inserts the new clusters and updates the changed ones.
pub(super) async fn save_clusters(txn: &impl ConnectionTrait, clusters: &[Cluster]) -> Result<(), sea_orm::DbErr> {
    let now = super::now();
    for c in clusters.iter().filter(|c| c.changed) {
        let (sum, cameras) = (sum_bytes(c)?, cameras_json(c));
        let row = cluster::ActiveModel {
            cluster_id: Set(c.cluster_id),
            model_id: Set(c.model_id.clone()),
            embedding_sum: Set(sum),
            size: Set(c.size as i32),
            first_seen: Set(c.first_seen),
            last_seen: Set(c.last_seen),
            cameras: Set(cameras),
            status: Set(OPEN.to_owned()),
            person_id: Set(None),
            updated_at: Set(now),
        };
        if c.new {
            cluster::Entity::insert(row).exec_without_returning(txn).await?;
        } else {
            cluster::Entity::update(row).exec(txn).await?;
        }
    }
    Ok(())
}
