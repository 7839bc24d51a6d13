//! Recomputing the open clusters of unknown faces from their faces (`rollcall review recluster`),
//! as if every face had arrived in one batch in time order.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};
use uuid::Uuid;

use super::Store;
use super::entities::{unknown_cluster as cluster, unknown_face as face};
use super::unknown_faces::{IDS_PER_QUERY, OPEN, embeddings_of, lock_clustering, save_clusters, stored_face};
use crate::review::clusters::{FaceToCluster, assign};

impl Store {
    /// Recomputes the open clusters from their faces, as if every face had arrived in one batch
    /// in time order; assigned and dismissed clusters keep their faces. Returns the number of
    /// open clusters.
    pub async fn recluster_unknown_faces(&self, cluster_distance: f32) -> Result<usize, sea_orm::DbErr> {
        let txn = self.db.begin().await?;
        lock_clustering(&txn).await?;
        let open: Vec<Uuid> = cluster::Entity::find()
            .filter(cluster::Column::Status.eq(OPEN))
            .all(&txn)
            .await?
            .into_iter()
            .map(|c| c.cluster_id)
            .collect();
        let mut members = Vec::new();
        for chunk in open.chunks(IDS_PER_QUERY) {
            members.extend(
                face::Entity::find()
                    .filter(face::Column::ClusterId.is_in(chunk.iter().copied()))
                    .all(&txn)
                    .await?,
            );
        }
        // Faces out of every cluster and nobody's yet (a face assigned on its own has a person;
        // a low-confidence match was never clustered).
        members.extend(
            face::Entity::find()
                .filter(face::Column::ClusterId.is_null())
                .filter(face::Column::PersonId.is_null())
                .filter(face::Column::MatchedPersonId.is_null())
                .all(&txn)
                .await?,
        );
        members.sort_by_key(|f| (f.seen_at, f.face_id));
        let embeddings = embeddings_of(&members)?;
        let mut faces: Vec<FaceToCluster<'_>> = members
            .iter()
            .zip(&embeddings)
            .map(|(f, e)| stored_face(f, e))
            .collect();
        let mut clusters = Vec::new();
        let assigned = assign(&mut clusters, &mut faces, cluster_distance);
        for chunk in open.chunks(IDS_PER_QUERY) {
            cluster::Entity::delete_many()
                .filter(cluster::Column::ClusterId.is_in(chunk.iter().copied()))
                .exec(&txn)
                .await?;
        }
        // One statement per cluster (and per thousand of its faces), not one per face.
        let mut by_cluster: std::collections::BTreeMap<Uuid, Vec<Uuid>> = Default::default();
        for (face_id, cluster_id) in assigned {
            by_cluster.entry(cluster_id).or_default().push(face_id);
        }
        for (cluster_id, faces) in &by_cluster {
            for chunk in faces.chunks(IDS_PER_QUERY) {
                face::Entity::update_many()
                    .col_expr(face::Column::ClusterId, Expr::value(*cluster_id))
                    .filter(face::Column::FaceId.is_in(chunk.iter().copied()))
                    .exec(&txn)
                    .await?;
            }
        }
        save_clusters(&txn, &clusters).await?;
        txn.commit().await?;
        Ok(clusters.len())
    }
}
