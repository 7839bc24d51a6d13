//! Review of unknown faces: clusters of look-alike strangers, their faces and crops.

use axum::http::header;
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::Shared;
use super::error::ApiError;
use super::extract::{Params, PathParams};
use crate::review::ClusterStatus;
use crate::store::{ClusterSummary, UnknownFaceSummary};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClustersQuery {
    /// Which clusters (default `open`: those waiting for a decision).
    pub status: Option<ClusterStatus>,
    /// At most this many, last seen first (default and maximum from the configuration).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// Unknown faces that look alike, grouped as one stranger.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Cluster {
    /// The id of its first face.
    pub cluster_id: Uuid,
    pub model_id: String,
    pub size: u32,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub cameras: Vec<String>,
    pub status: ClusterStatus,
    /// The person it was assigned to.
    pub person_id: Option<String>,
    /// At least `review.flag_after` faces: someone unknown keeps coming.
    pub flagged: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UnknownFace {
    pub face_id: Uuid,
    pub camera_id: String,
    pub frame_seq: i64,
    pub seen_at: DateTime<Utc>,
    /// Distance to the nearest enrolled template when it was seen, if there was any.
    pub nearest_distance: Option<f32>,
    /// Where its face crop (JPEG) is, if it came with one.
    pub crop_url: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClusterFaces {
    pub cluster: Cluster,
    /// In the order they were seen.
    pub faces: Vec<UnknownFace>,
}

fn cluster_out(state: &Shared, c: ClusterSummary) -> Cluster {
    let flagged = state.review.flags(c.size);
    Cluster {
        cluster_id: c.cluster_id,
        model_id: c.model_id,
        size: c.size,
        first_seen: c.first_seen,
        last_seen: c.last_seen,
        cameras: c.cameras,
        status: c.status,
        person_id: c.person_id,
        flagged,
    }
}

fn face_out(f: UnknownFaceSummary) -> UnknownFace {
    UnknownFace {
        crop_url: f.has_crop.then(|| format!("/v1/review/faces/{}/crop", f.face_id)),
        face_id: f.face_id,
        camera_id: f.camera_id,
        frame_seq: f.frame_seq,
        seen_at: f.seen_at,
        nearest_distance: f.nearest_distance,
    }
}

pub(super) fn uuid_of(what: &str, raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw)
        .map_err(|e| ApiError::bad_request("invalid_id", format!("{what} id {raw:?} is not a UUID: {e}")))
}

/// Clusters of unknown faces, last seen first.
#[utoipa::path(get, path = "/v1/review/clusters", operation_id = "list_unknown_clusters", tag = "review", params(ClustersQuery),
    responses((status = 200, description = "Success", body = Vec<Cluster>)), security(("api_key" = [])))]
pub async fn clusters(state: Shared, Params(q): Params<ClustersQuery>) -> Result<axum::Json<Vec<Cluster>>, ApiError> {
    let limit = state.page_size(q.limit)?;
    let status = q.status.unwrap_or(ClusterStatus::Open);
    let found = state.services.store.unknown_clusters(Some(status), limit).await?;
    Ok(axum::Json(found.into_iter().map(|c| cluster_out(&state, c)).collect()))
}

/// A cluster and its faces.
#[utoipa::path(get, path = "/v1/review/clusters/{cluster_id}", operation_id = "show_unknown_cluster", tag = "review",
    params(("cluster_id" = Uuid, Path)),
    responses((status = 200, description = "Success", body = ClusterFaces), (status = 404, description = "No such resource", body = super::error::ErrorBody)),
    security(("api_key" = [])))]
pub async fn cluster(state: Shared, PathParams(id): PathParams<String>) -> Result<axum::Json<ClusterFaces>, ApiError> {
    let id = uuid_of("cluster", &id)?;
    let (cluster, faces) = state.services.store.unknown_cluster(id).await?.ok_or_else(|| {
        ApiError::not_found(format!(
            "no unknown-face cluster {id} (or its faces are past retention)"
        ))
    })?;
    Ok(axum::Json(ClusterFaces {
        cluster: cluster_out(&state, cluster),
        faces: faces.into_iter().map(face_out).collect(),
    }))
}

/// The face crop of an unknown face (JPEG, at most 160 px a side).
#[utoipa::path(get, path = "/v1/review/faces/{face_id}/crop", operation_id = "unknown_face_crop", tag = "review",
    params(("face_id" = Uuid, Path)),
    responses((status = 200, description = "The crop", content_type = "image/jpeg"), (status = 404, description = "No such face (never seen, or past retention), or it has no crop", body = super::error::ErrorBody)),
    security(("api_key" = [])))]
pub async fn crop(state: Shared, PathParams(id): PathParams<String>) -> Result<impl IntoResponse, ApiError> {
    let id = uuid_of("face", &id)?;
    let jpeg = match state.services.store.unknown_face_crop(id).await? {
        Some(Some(jpeg)) => jpeg,
        Some(None) => return Err(ApiError::not_found(format!("unknown face {id} came without a crop"))),
        None => {
            return Err(ApiError::not_found(format!(
                "no unknown face {id}: never seen, or deleted after retention.unknown_days"
            )));
        }
    };
    // Biometric data: never kept by a shared cache.
    Ok((
        [
            (header::CONTENT_TYPE, "image/jpeg"),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        jpeg,
    ))
}
