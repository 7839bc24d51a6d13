//! Cameras: registration (by the API, and by `rollcall run` for the cameras it ingests) and roles.

use super::Services;
use crate::cache::keys;
use crate::domain::{CameraId, CameraRole};

/// Creates the camera or updates its name, location and role; audited.
pub async fn register(
    svc: &Services,
    actor: &str,
    id: &CameraId,
    name: &str,
    location: &str,
    role: CameraRole,
) -> anyhow::Result<()> {
    svc.store.upsert_camera(id, name, location, role).await?;
    let details = serde_json::json!({ "name": name, "location": location, "role": role.as_str() });
    svc.store
        .audit(actor, "camera.registered", id.as_str(), details)
        .await?;
    Ok(())
}

/// Sets whether a camera watches an entry, an exit or both; false if there is no such camera.
/// Session reports depend on the roles, so their generation moves on.
pub async fn set_role(svc: &Services, actor: &str, id: &CameraId, role: CameraRole) -> anyhow::Result<bool> {
    if !svc.store.set_camera_role(id, role).await? {
        return Ok(false);
    }
    let generations = svc.store.bump_generations(&[keys::cameras()]).await?;
    let details = serde_json::json!({ "role": role.as_str() });
    svc.store.audit(actor, "camera.role_set", id.as_str(), details).await?;
    svc.invalidate(&generations).await;
    Ok(true)
}
