//! Attendance corrections through the API: a person's events of a day (to find the one to take
//! back), a retraction, and an addition by hand. The rules are the use case's (`usecases::corrections`).

use axum::Extension;
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::error::ApiError;
use super::extract::{Body, Params, PathParams};
use super::{Caller, Shared};
use crate::domain::{AttendanceCorrection, CameraId, MANUAL_MODEL_ID, PersonId};
use crate::usecases::corrections::{self, Addition, Refusal};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetractionRequest {
    /// The attendance event to take back (from `GET /v1/people/{id}/events`).
    pub event_id: Uuid,
    /// Why, for the audit: 1 to 200 characters.
    pub reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdditionRequest {
    pub person_id: String,
    /// When they were there (RFC 3339); not in the future.
    pub seen_at: DateTime<Utc>,
    /// The camera that missed them; without it the mark's camera is `manual`.
    pub camera_id: Option<String>,
    /// Why, for the audit: 1 to 200 characters.
    pub reason: String,
}

/// A correction as it went on the attendance topic.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Correction {
    pub correction_id: Uuid,
    /// `retraction` or `addition`.
    pub correction: String,
    /// The event taken back, or the event added.
    pub event_id: Uuid,
    pub person_id: String,
    pub camera_id: String,
    pub seen_at: DateTime<Utc>,
    pub actor: String,
    pub reason: String,
    pub corrected_at: DateTime<Utc>,
}

impl From<AttendanceCorrection> for Correction {
    fn from(c: AttendanceCorrection) -> Self {
        Correction {
            correction_id: c.correction_id,
            correction: c.correction.as_str().to_owned(),
            event_id: c.event_id,
            person_id: c.person_id.to_string(),
            camera_id: c.camera_id.to_string(),
            seen_at: c.seen_at,
            actor: c.actor,
            reason: c.reason,
            corrected_at: c.corrected_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// The day, `YYYY-MM-DD` (UTC).
    #[serde(deserialize_with = "crate::domain::dates::checked")]
    pub day: NaiveDate,
}

/// One stored attendance event.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StoredEvent {
    pub event_id: Uuid,
    pub camera_id: String,
    pub seen_at: DateTime<Utc>,
    pub similarity: f32,
    /// Added by hand (a correction), not seen by a camera.
    pub manual: bool,
}

fn refused(refusal: Refusal) -> ApiError {
    let message = refusal.to_string();
    match refusal {
        Refusal::NoEvent(_) | Refusal::NoPerson(_) | Refusal::NoCamera(_) => ApiError::not_found(message),
        Refusal::AlreadyRetracted(_) => ApiError::conflict(message),
        Refusal::Future(_) | Refusal::Invalid(_) => ApiError::bad_request("invalid_body", message),
    }
}

fn person_id(raw: &str) -> Result<PersonId, ApiError> {
    PersonId::parse(raw).map_err(|e| ApiError::bad_request("invalid_person_id", format!("person id {raw:?}: {e}")))
}

/// A person's attendance events of one day, oldest first, with their ids.
#[utoipa::path(get, path = "/v1/people/{id}/events", operation_id = "person_events", tag = "attendance",
    params(("id" = String, Path, description = "Person id"), EventsQuery),
    responses((status = 200, description = "Success", body = [StoredEvent]),
        (status = 400, description = "Malformed request: the error says what", body = super::error::ErrorBody)),
    security(("api_key" = [])))]
pub async fn events(
    state: Shared,
    PathParams(id): PathParams<String>,
    Params(q): Params<EventsQuery>,
) -> Result<axum::Json<Vec<StoredEvent>>, ApiError> {
    let id = person_id(&id)?;
    let rows = state.services.store.person_events(&id, q.day).await?;
    Ok(axum::Json(
        rows.into_iter()
            .map(|e| StoredEvent {
                manual: e.model_id == MANUAL_MODEL_ID,
                event_id: e.event_id,
                camera_id: e.camera_id,
                seen_at: e.seen_at,
                similarity: e.similarity,
            })
            .collect(),
    ))
}

/// Takes back a wrong attendance event. The retraction goes on the attendance topic (the log
/// stays append-only); the projector folds it, so day lists, stats and session reports change
/// once it is projected, and a replay gives the same. Audited as `attendance.retracted`.
#[utoipa::path(post, path = "/v1/attendance/retractions", operation_id = "retract_attendance", tag = "attendance",
    request_body = RetractionRequest,
    responses((status = 202, description = "Accepted: on the attendance topic", body = Correction),
        (status = 400, description = "Malformed request: the error says what", body = super::error::ErrorBody),
        (status = 404, description = "No such stored event", body = super::error::ErrorBody),
        (status = 409, description = "The event is already retracted", body = super::error::ErrorBody)),
    security(("api_key" = [])))]
pub async fn retract(
    state: Shared,
    Extension(caller): Extension<Caller>,
    Body(request): Body<RetractionRequest>,
) -> Result<(StatusCode, axum::Json<Correction>), ApiError> {
    let correction = corrections::retract(
        &state.services,
        &state.corrections,
        request.event_id,
        &caller.name,
        &request.reason,
    )
    .await?
    .map_err(refused)?;
    Ok((StatusCode::ACCEPTED, axum::Json(correction.into())))
}

/// Adds an attendance event no camera produced (a forgotten face, a camera that was down). It
/// goes on the attendance topic like a retraction and counts like a camera's event once
/// projected. Audited as `attendance.added`.
#[utoipa::path(post, path = "/v1/attendance/additions", operation_id = "add_attendance", tag = "attendance",
    request_body = AdditionRequest,
    responses((status = 202, description = "Accepted: on the attendance topic", body = Correction),
        (status = 400, description = "Malformed request, or a time in the future", body = super::error::ErrorBody),
        (status = 404, description = "No such person or camera", body = super::error::ErrorBody)),
    security(("api_key" = [])))]
pub async fn add(
    state: Shared,
    Extension(caller): Extension<Caller>,
    Body(request): Body<AdditionRequest>,
) -> Result<(StatusCode, axum::Json<Correction>), ApiError> {
    let camera_id = request
        .camera_id
        .as_deref()
        .map(|raw| {
            CameraId::parse(raw)
                .map_err(|e| ApiError::bad_request("invalid_camera_id", format!("camera id {raw:?}: {e}")))
        })
        .transpose()?;
    let addition = Addition {
        person_id: person_id(&request.person_id)?,
        seen_at: request.seen_at,
        camera_id,
    };
    let correction = corrections::add(
        &state.services,
        &state.corrections,
        addition,
        &caller.name,
        &request.reason,
    )
    .await?
    .map_err(refused)?;
    Ok((StatusCode::ACCEPTED, axum::Json(correction.into())))
}
