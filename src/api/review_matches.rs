//! Low-confidence matches through the API: faces accepted as someone within `review.match_margin`
//! of the threshold, to confirm or to mark "not this person" (`POST
//! /v1/review/faces/{face_id}/not-person`, which also takes the face out of this list).

use axum::Extension;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::error::ApiError;
use super::extract::{Params, PathParams};
use super::review::uuid_of;
use super::review_decisions::refused;
use super::{Caller, Shared};
use crate::domain::PersonId;
use crate::usecases::review;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MatchesQuery {
    /// Only the matches of this person.
    pub person_id: Option<String>,
    /// At most this many, newest first (default and maximum from the configuration).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// A face accepted as someone with little room to spare.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LowConfidenceMatch {
    pub face_id: Uuid,
    /// Whom it was taken for.
    pub person_id: String,
    pub camera_id: String,
    pub frame_seq: i64,
    pub seen_at: DateTime<Utc>,
    /// The match's distance: under the threshold by less than `review.match_margin`.
    pub distance: Option<f32>,
    /// Where its face crop (JPEG) is, if it came with one (track mode).
    pub crop_url: Option<String>,
}

/// Low-confidence matches waiting for a decision, newest first.
#[utoipa::path(get, path = "/v1/review/matches", operation_id = "list_low_confidence_matches", tag = "review", params(MatchesQuery),
    responses((status = 200, description = "Success", body = Vec<LowConfidenceMatch>),
        (status = 400, description = "Malformed request: the error says what", body = super::error::ErrorBody)),
    security(("api_key" = [])))]
pub async fn matches(
    state: Shared,
    Params(q): Params<MatchesQuery>,
) -> Result<axum::Json<Vec<LowConfidenceMatch>>, ApiError> {
    let limit = state.page_size(q.limit)?;
    let person = q
        .person_id
        .as_deref()
        .map(|raw| {
            PersonId::parse(raw).map_err(|e| ApiError::bad_request("invalid_query", format!("person id {raw:?}: {e}")))
        })
        .transpose()?;
    let found = state
        .services
        .store
        .low_confidence_matches(person.as_ref(), limit)
        .await?;
    Ok(axum::Json(
        found
            .into_iter()
            .map(|m| LowConfidenceMatch {
                crop_url: m.has_crop.then(|| format!("/v1/review/faces/{}/crop", m.face_id)),
                face_id: m.face_id,
                person_id: m.person_id,
                camera_id: m.camera_id,
                frame_seq: m.frame_seq,
                seen_at: m.seen_at,
                distance: m.distance,
            })
            .collect(),
    ))
}

/// Confirms a low-confidence match: it was the person it was taken for. It leaves the list.
#[utoipa::path(post, path = "/v1/review/matches/{face_id}/confirm", operation_id = "confirm_low_confidence_match", tag = "review",
    params(("face_id" = Uuid, Path)),
    responses((status = 204, description = "Confirmed"), (status = 404, description = "No such match", body = super::error::ErrorBody)),
    security(("api_key" = [])))]
pub async fn confirm(
    state: Shared,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
) -> Result<StatusCode, ApiError> {
    let id = uuid_of("face", &id)?;
    review::confirm_match(&state.services, &caller.name, id)
        .await?
        .map_err(refused)?;
    Ok(StatusCode::NO_CONTENT)
}
