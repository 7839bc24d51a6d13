//! The camera register: cameras and whether each watches an entry, an exit or both.

use axum::Extension;
use axum::http::StatusCode;

use super::dto::{Camera, CameraRoleChange, NewCamera};
use super::error::ApiError;
use super::extract::{Body, PathParams};
use super::{Caller, Shared};
use crate::domain::CameraId;
use crate::store::entities::camera;

fn camera_id(raw: &str) -> Result<CameraId, ApiError> {
    CameraId::parse(raw).map_err(|e| ApiError::bad_request("invalid_camera_id", format!("camera id {raw:?}: {e}")))
}

fn out(c: camera::Model) -> Camera {
    Camera {
        id: c.id,
        name: c.name,
        location: c.location,
        role: c.role,
        created_at: c.created_at,
    }
}

/// Every registered camera.
#[utoipa::path(get, path = "/v1/cameras", operation_id = "list_cameras", tag = "cameras",
    responses((status = 200, description = "Success", body = Vec<Camera>)), security(("api_key" = [])))]
pub async fn list(state: Shared) -> Result<axum::Json<Vec<Camera>>, ApiError> {
    Ok(axum::Json(
        state.services.store.cameras().await?.into_iter().map(out).collect(),
    ))
}

/// Registers a camera, or updates its name, location and role.
#[utoipa::path(post, path = "/v1/cameras", operation_id = "register_camera", tag = "cameras", request_body = NewCamera,
    responses((status = 201, description = "Created", body = Camera), (status = 400, description = "Malformed request: the error says what", body = super::error::ErrorBody)),
    security(("api_key" = [])))]
pub async fn register(
    state: Shared,
    Extension(caller): Extension<Caller>,
    Body(new): Body<NewCamera>,
) -> Result<(StatusCode, axum::Json<Camera>), ApiError> {
    let id = camera_id(&new.id)?;
    let checked = |what, raw: &str, may_be_empty| {
        crate::domain::text::checked_name(what, raw, may_be_empty)
            .map_err(|why| ApiError::bad_request("invalid_body", why))
    };
    let name = checked("name", new.name.as_deref().unwrap_or(id.as_str()), false)?;
    let location = checked("location", &new.location, true)?;
    crate::usecases::cameras::register(&state.services, &caller.name, &id, &name, &location, new.role).await?;
    let camera = state
        .services
        .store
        .camera(&id)
        .await?
        .ok_or_else(|| ApiError::internal("registering a camera", "the camera vanished"))?;
    Ok((StatusCode::CREATED, axum::Json(out(camera))))
}

/// Sets whether a camera watches an entry, an exit or both.
#[utoipa::path(put, path = "/v1/cameras/{id}/role", operation_id = "set_camera_role", tag = "cameras", params(("id" = String, Path)),
    request_body = CameraRoleChange,
    responses((status = 200, description = "Success", body = Camera), (status = 404, description = "No such resource", body = super::error::ErrorBody)),
    security(("api_key" = [])))]
pub async fn set_role(
    state: Shared,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
    Body(change): Body<CameraRoleChange>,
) -> Result<axum::Json<Camera>, ApiError> {
    let id = camera_id(&id)?;
    if !crate::usecases::cameras::set_role(&state.services, &caller.name, &id, change.role).await? {
        return Err(ApiError::not_found(format!("no camera {id}")));
    }
    let camera = state
        .services
        .store
        .camera(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no camera {id}")))?;
    Ok(axum::Json(out(camera)))
}
