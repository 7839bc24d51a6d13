//! Decisions on unknown faces, each audited in its transaction: faces and whole clusters
//! assigned to a person (their crops became the person's templates), clusters dismissed, and
//! what an erasure of the person takes with it.

use std::collections::{BTreeSet, HashMap};

use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect, TransactionTrait,
};
use uuid::Uuid;

use super::Store;
use super::entities::{unknown_cluster as cluster, unknown_face as face};
use crate::domain::PersonId;
use crate::review::ClusterStatus;

/// Where a cluster stands: its status and the person it was assigned to.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterState {
    pub status: ClusterStatus,
    pub person_id: Option<String>,
}

/// The faces a review decision is about, as found in the store.
#[derive(Debug, Default)]
pub struct ReviewSelection {
    /// Each requested cluster's state, `None` when there is no such cluster.
    pub clusters: Vec<(Uuid, Option<ClusterState>)>,
    /// Requested faces that are not stored (never seen, or past retention).
    pub missing_faces: Vec<Uuid>,
    /// Every face of the clusters found and every face found, once: (id, crop).
    pub faces: Vec<(Uuid, Option<Vec<u8>>)>,
}

impl Store {
    /// What assigning `clusters` and `faces` would be about.
    pub async fn review_selection(&self, clusters: &[Uuid], faces: &[Uuid]) -> Result<ReviewSelection, sea_orm::DbErr> {
        let found: HashMap<Uuid, cluster::Model> = cluster::Entity::find()
            .filter(cluster::Column::ClusterId.is_in(clusters.iter().copied()))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|c| (c.cluster_id, c))
            .collect();
        let mut selection = ReviewSelection {
            clusters: clusters
                .iter()
                .map(|id| {
                    let state = found.get(id).map(|c| ClusterState {
                        status: ClusterStatus::from_stored(&c.status),
                        person_id: c.person_id.clone(),
                    });
                    (*id, state)
                })
                .collect(),
            ..Default::default()
        };
        let of_clusters: Vec<(Uuid, Option<Vec<u8>>)> = face::Entity::find()
            .select_only()
            .columns([face::Column::FaceId, face::Column::CropJpeg])
            .filter(face::Column::ClusterId.is_in(found.keys().copied()))
            .into_tuple()
            .all(&self.db)
            .await?;
        let single: Vec<(Uuid, Option<Vec<u8>>)> = face::Entity::find()
            .select_only()
            .columns([face::Column::FaceId, face::Column::CropJpeg])
            .filter(face::Column::FaceId.is_in(faces.iter().copied()))
            .into_tuple()
            .all(&self.db)
            .await?;
        let single_ids: BTreeSet<Uuid> = single.iter().map(|(id, _)| *id).collect();
        selection.missing_faces = faces.iter().filter(|id| !single_ids.contains(id)).copied().collect();
        let mut seen = BTreeSet::new();
        selection.faces = of_clusters
            .into_iter()
            .chain(single)
            .filter(|(id, _)| seen.insert(*id))
            .collect();
        Ok(selection)
    }

    /// Records that `clusters` and `faces` are `person`: the clusters become `assigned`, every
    /// face of them and each of `faces` names the person, and a face assigned on its own leaves
    /// its cluster. Audited under `actor`.
    pub async fn record_assignment(
        &self,
        actor: &str,
        person: &PersonId,
        clusters: &[Uuid],
        faces: &[Uuid],
        templates_added: usize,
    ) -> Result<(), sea_orm::DbErr> {
        let txn = self.db.begin().await?;
        super::unknown_faces::lock_clustering(&txn).await?;
        set_status(&txn, clusters, ClusterStatus::Assigned, Some(person)).await?;
        face::Entity::update_many()
            .col_expr(face::Column::PersonId, Expr::value(person.as_str()))
            .filter(face::Column::ClusterId.is_in(clusters.iter().copied()))
            .exec(&txn)
            .await?;
        let wanted: BTreeSet<Uuid> = clusters.iter().copied().collect();
        let singles: Vec<(Uuid, Option<Uuid>)> = face::Entity::find()
            .select_only()
            .columns([face::Column::FaceId, face::Column::ClusterId])
            .filter(face::Column::FaceId.is_in(faces.iter().copied()))
            .into_tuple()
            .all(&txn)
            .await?;
        // Faces assigned on their own, and the clusters they leave.
        let (alone, left): (Vec<Uuid>, BTreeSet<Uuid>) = singles
            .into_iter()
            .filter(|(_, cluster)| !cluster.is_some_and(|c| wanted.contains(&c)))
            .fold(
                (Vec::new(), BTreeSet::new()),
                |(mut alone, mut left), (face, cluster)| {
                    alone.push(face);
                    left.extend(cluster);
                    (alone, left)
                },
            );
        face::Entity::update_many()
            .col_expr(face::Column::PersonId, Expr::value(person.as_str()))
            .col_expr(face::Column::ClusterId, Expr::value(Option::<Uuid>::None))
            .filter(face::Column::FaceId.is_in(alone))
            .exec(&txn)
            .await?;
        super::unknown_faces::refresh_clusters(&txn, &left).await?;
        let details = serde_json::json!({
            "clusters": clusters,
            "faces": faces,
            "templates_added": templates_added,
        });
        super::changes::audit(&txn, actor, "review.assigned", person.as_str(), details).await?;
        txn.commit().await
    }

    /// Sets `clusters` aside: they stay, with their faces, until retention, and take no new
    /// faces. Returns the ids that are not clusters (nothing is changed then).
    pub async fn dismiss_clusters(&self, actor: &str, clusters: &[Uuid]) -> Result<Vec<Uuid>, sea_orm::DbErr> {
        let txn = self.db.begin().await?;
        let found: BTreeSet<Uuid> = cluster::Entity::find()
            .select_only()
            .column(cluster::Column::ClusterId)
            .filter(cluster::Column::ClusterId.is_in(clusters.iter().copied()))
            .into_tuple()
            .all(&txn)
            .await?
            .into_iter()
            .collect();
        let missing: Vec<Uuid> = clusters.iter().filter(|id| !found.contains(id)).copied().collect();
        if !missing.is_empty() {
            txn.rollback().await?;
            return Ok(missing);
        }
        set_status(&txn, clusters, ClusterStatus::Dismissed, None).await?;
        for id in clusters {
            let details = serde_json::json!({});
            super::changes::audit(&txn, actor, "review.dismissed", &id.to_string(), details).await?;
        }
        txn.commit().await?;
        Ok(Vec::new())
    }
}

async fn set_status(
    txn: &DatabaseTransaction,
    clusters: &[Uuid],
    status: ClusterStatus,
    person: Option<&PersonId>,
) -> Result<(), sea_orm::DbErr> {
    cluster::Entity::update_many()
        .col_expr(cluster::Column::Status, Expr::value(status.as_str()))
        .col_expr(cluster::Column::PersonId, Expr::value(person.map(PersonId::as_str)))
        .col_expr(cluster::Column::UpdatedAt, Expr::value(super::now()))
        .filter(cluster::Column::ClusterId.is_in(clusters.iter().copied()))
        .exec(txn)
        .await?;
    Ok(())
}

/// Deletes what review kept about `person`: the faces assigned to them (crops and embeddings)
/// and their clusters. Returns (faces, clusters) deleted.
pub(super) async fn erase_assigned(
    txn: &impl ConnectionTrait,
    person: &PersonId,
) -> Result<(u64, u64), sea_orm::DbErr> {
    // Their low-confidence matches too: crops of faces taken for them.
    let faces = face::Entity::delete_many()
        .filter(
            sea_orm::Condition::any()
                .add(face::Column::PersonId.eq(person.as_str()))
                .add(face::Column::MatchedPersonId.eq(person.as_str())),
        )
        .exec(txn)
        .await?
        .rows_affected;
    let clusters = cluster::Entity::delete_many()
        .filter(cluster::Column::PersonId.eq(person.as_str()))
        .exec(txn)
        .await?
        .rows_affected;
    Ok((faces, clusters))
}
