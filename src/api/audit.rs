//! The audit trail: who changed what about a person or camera, and when.

use super::Shared;
use super::dto::{AuditQuery, AuditRecord};
use super::error::ApiError;
use super::extract::Params;

/// Audit entries about a person or camera, oldest first.
#[utoipa::path(get, path = "/v1/audit", operation_id = "list_audit", tag = "audit", params(AuditQuery),
    responses((status = 200, description = "Success", body = Vec<AuditRecord>)), security(("api_key" = [])))]
pub async fn audit(state: Shared, Params(q): Params<AuditQuery>) -> Result<axum::Json<Vec<AuditRecord>>, ApiError> {
    let subject = crate::domain::text::checked_name("subject", &q.subject, false)
        .map_err(|why| ApiError::bad_request("invalid_query", why))?;
    let entries = state.services.store.audit_entries(&subject).await?;
    Ok(axum::Json(
        entries
            .into_iter()
            .map(|e| AuditRecord {
                id: e.id,
                at: e.at,
                actor: e.actor,
                action: e.action,
                subject: e.subject,
                details: e.details,
            })
            .collect(),
    ))
}
