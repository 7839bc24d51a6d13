//! Incremental clustering of unknown faces: each face joins the nearest open cluster of its model
//! whose centroid is within the configured distance, or starts one named after itself. Faces are
//! taken in (seen_at, face_id) order, so the same faces give the same clusters and ids, whether
//! they arrive in one batch or many, in order (`rollcall review recluster` recomputes them).

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A face to cluster.
#[derive(Debug, Clone)]
pub struct FaceToCluster<'a> {
    pub face_id: Uuid,
    pub camera_id: &'a str,
    pub seen_at: DateTime<Utc>,
    pub model_id: &'a str,
    pub embedding: &'a [f32],
}

/// An open cluster as the clustering sees it: the sum of its members' embeddings keeps the
/// centroid exact as faces join.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    pub cluster_id: Uuid,
    pub model_id: String,
    pub embedding_sum: Vec<f32>,
    pub size: u32,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub cameras: BTreeSet<String>,
    /// Changed since it was loaded (or new): to be written back.
    pub changed: bool,
    /// Not in the store yet.
    pub new: bool,
}

impl Cluster {
    fn started_by(face: &FaceToCluster<'_>) -> Self {
        Self {
            cluster_id: face.face_id,
            model_id: face.model_id.to_owned(),
            embedding_sum: face.embedding.to_vec(),
            size: 1,
            first_seen: face.seen_at,
            last_seen: face.seen_at,
            cameras: BTreeSet::from([face.camera_id.to_owned()]),
            changed: true,
            new: true,
        }
    }

    /// Cluster `cluster_id` as made of `faces` alone (none: no cluster), for a cluster that
    /// lost faces.
    pub fn of_faces(cluster_id: Uuid, faces: &[FaceToCluster<'_>]) -> Option<Cluster> {
        let (first, rest) = faces.split_first()?;
        let mut cluster = Cluster::started_by(first);
        cluster.cluster_id = cluster_id;
        for face in rest {
            cluster.join(face);
        }
        Some(cluster)
    }

    /// Squared L2 distance from `embedding` to the centroid.
    fn squared_distance(&self, embedding: &[f32]) -> f32 {
        let size = self.size as f32;
        self.embedding_sum
            .iter()
            .zip(embedding)
            .map(|(sum, v)| {
                let d = sum / size - v;
                d * d
            })
            .sum()
    }

    fn join(&mut self, face: &FaceToCluster<'_>) {
        for (sum, v) in self.embedding_sum.iter_mut().zip(face.embedding) {
            *sum += v;
        }
        self.size += 1;
        self.first_seen = self.first_seen.min(face.seen_at);
        self.last_seen = self.last_seen.max(face.seen_at);
        self.cameras.insert(face.camera_id.to_owned());
        self.changed = true;
    }
}

/// Puts each face in a cluster, in (seen_at, face_id) order; returns (face, cluster) pairs.
/// Ties in distance go to the cluster with the smaller id, so the result never depends on the
/// order `clusters` came in.
pub fn assign(clusters: &mut Vec<Cluster>, faces: &mut [FaceToCluster<'_>], max_distance: f32) -> Vec<(Uuid, Uuid)> {
    faces.sort_by_key(|f| (f.seen_at, f.face_id));
    let limit = max_distance * max_distance;
    let mut assigned = Vec::with_capacity(faces.len());
    for face in faces.iter() {
        let nearest = clusters
            .iter_mut()
            .filter(|c| c.model_id == face.model_id && c.embedding_sum.len() == face.embedding.len())
            .map(|c| (c.squared_distance(face.embedding), c))
            .filter(|(d, _)| *d <= limit)
            .min_by(|(da, a), (db, b)| da.total_cmp(db).then(a.cluster_id.cmp(&b.cluster_id)));
        let cluster_id = match nearest {
            Some((_, cluster)) => {
                cluster.join(face);
                cluster.cluster_id
            }
            None => {
                clusters.push(Cluster::started_by(face));
                face.face_id
            }
        };
        assigned.push((face.face_id, cluster_id));
    }
    assigned
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(n: u128, at: i64, camera: &'static str, embedding: &'static [f32]) -> FaceToCluster<'static> {
        FaceToCluster {
            face_id: Uuid::from_u128(n),
            camera_id: camera,
            seen_at: DateTime::from_timestamp(at, 0).unwrap(),
            model_id: "m",
            embedding,
        }
    }

    #[test]
    fn alike_faces_share_a_cluster_named_after_the_first() {
        let mut clusters = Vec::new();
        let mut faces = [
            face(3, 30, "door", &[0.1, 0.0]),
            face(1, 10, "door", &[0.0, 0.0]),
            face(2, 20, "hall", &[0.0, 0.1]),
            face(4, 40, "door", &[5.0, 5.0]),
        ];
        let assigned = assign(&mut clusters, &mut faces, 0.5);
        let first = Uuid::from_u128(1);
        assert_eq!(
            assigned,
            [
                (first, first),
                (Uuid::from_u128(2), first),
                (Uuid::from_u128(3), first),
                (Uuid::from_u128(4), Uuid::from_u128(4))
            ]
        );
        let c = &clusters[0];
        assert_eq!((c.size, c.cameras.len()), (3, 2));
        assert_eq!(c.first_seen.timestamp(), 10);
        assert_eq!(c.last_seen.timestamp(), 30);
    }

    #[test]
    fn one_batch_or_many_in_order_give_the_same_clusters() {
        let embeddings: [&'static [f32]; 5] = [&[0.0, 0.0], &[0.3, 0.0], &[0.6, 0.0], &[3.0, 0.0], &[3.2, 0.0]];
        let faces = |range: std::ops::Range<usize>| -> Vec<FaceToCluster<'static>> {
            range
                .map(|i| face(i as u128, i as i64, "door", embeddings[i]))
                .collect()
        };
        let mut at_once = Vec::new();
        let whole = assign(&mut at_once, &mut faces(0..5), 0.5);
        let mut in_two = Vec::new();
        let mut split = assign(&mut in_two, &mut faces(0..2), 0.5);
        split.extend(assign(&mut in_two, &mut faces(2..5), 0.5));
        assert_eq!(whole, split);
        assert_eq!(at_once.len(), 2);
    }

    #[test]
    fn another_model_never_joins() {
        let mut clusters = Vec::new();
        let mut faces = [face(1, 1, "door", &[0.0, 0.0]), face(2, 2, "door", &[0.0, 0.0])];
        faces[1].model_id = "other";
        assign(&mut clusters, &mut faces, 0.5);
        assert_eq!(clusters.len(), 2);
    }
}
