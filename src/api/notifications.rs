//! Notifications through the API: webhook endpoints (added, listed without their secrets,
//! removed), the outbox's deliveries (pending, delivered, failed), and a failed one sent again.

use axum::Extension;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::error::ApiError;
use super::extract::{Body, Params, PathParams};
use super::{Caller, Shared};
use crate::store::entities::notification_channel as channel;
use crate::store::{DELIVERED, DeliveryView, FAILED, PENDING};
use crate::usecases::webhooks::{self, NewWebhook, Refusal};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookRequest {
    /// Where notifications are POSTed: `http://` or `https://`.
    pub url: String,
    /// Signs each request (`X-Rollcall-Signature`): 16 to 200 characters.
    pub secret: String,
    /// The kinds it takes (`person.arrived`, `cluster.flagged`, `session.late`,
    /// `session.absent`); every kind when left out.
    #[serde(default)]
    pub events: Vec<String>,
}

/// A webhook endpoint (its secret is never shown).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Webhook {
    pub webhook_id: String,
    pub url: String,
    pub events: Vec<String>,
    pub created_at: DateTime<Utc>,
}

impl From<channel::Model> for Webhook {
    fn from(c: channel::Model) -> Self {
        Webhook {
            webhook_id: c.channel_id,
            url: c.url,
            events: serde_json::from_str(&c.events).unwrap_or_default(),
            created_at: c.created_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeliveriesQuery {
    /// `pending`, `delivered` or `failed` (any when left out).
    pub status: Option<String>,
    /// At most this many, latest change first.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// One notification on its way to one channel.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Delivery {
    pub delivery_id: Uuid,
    /// The idempotency key every attempt carries.
    pub notification_id: Uuid,
    pub kind: String,
    pub subject: String,
    /// `webhook:<id>` or `mqtt`.
    pub channel_id: String,
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub next_attempt_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<DeliveryView> for Delivery {
    fn from(v: DeliveryView) -> Self {
        let d = v.delivery;
        Delivery {
            delivery_id: d.delivery_id,
            notification_id: d.notification_id,
            kind: v.kind,
            subject: v.subject,
            channel_id: d.channel_id,
            status: d.status,
            attempts: d.attempts,
            last_error: d.last_error,
            next_attempt_at: d.next_attempt_at,
            updated_at: d.updated_at,
        }
    }
}

fn refused(refusal: Refusal) -> ApiError {
    let message = refusal.to_string();
    match refusal {
        Refusal::Url(_) => ApiError::bad_request("invalid_url", message),
        Refusal::Secret | Refusal::Kinds(_) => ApiError::bad_request("invalid_body", message),
        Refusal::NoWebhook(_) => ApiError::not_found(message),
    }
}

/// Adds a webhook endpoint. Each notification of its kinds made from now on is POSTed to it as
/// JSON, signed, with its idempotency key, and retried with backoff until it answers 2xx.
#[utoipa::path(post, path = "/v1/webhooks", operation_id = "add_webhook", tag = "notifications",
    request_body = WebhookRequest,
    responses((status = 201, description = "Created", body = Webhook),
        (status = 400, description = "Not an http(s) URL, a secret too short, or an unknown kind", body = super::error::ErrorBody)),
    security(("api_key" = [])))]
pub async fn add(
    state: Shared,
    Extension(caller): Extension<Caller>,
    Body(request): Body<WebhookRequest>,
) -> Result<(StatusCode, axum::Json<Webhook>), ApiError> {
    let new = NewWebhook {
        url: request.url,
        secret: request.secret,
        events: request.events,
    };
    let added = webhooks::add(&state.services, &caller.name, new)
        .await?
        .map_err(refused)?;
    Ok((StatusCode::CREATED, axum::Json(added.into())))
}

/// The webhook endpoints.
#[utoipa::path(get, path = "/v1/webhooks", operation_id = "list_webhooks", tag = "notifications",
    responses((status = 200, description = "Success", body = Vec<Webhook>)), security(("api_key" = [])))]
pub async fn list(state: Shared) -> Result<axum::Json<Vec<Webhook>>, ApiError> {
    let channels = state.services.store.notification_channels().await?;
    Ok(axum::Json(
        channels
            .into_iter()
            .filter(|c| c.kind == "webhook")
            .map(Webhook::from)
            .collect(),
    ))
}

/// Removes a webhook endpoint and the deliveries still waiting for it.
#[utoipa::path(delete, path = "/v1/webhooks/{webhook_id}", operation_id = "remove_webhook", tag = "notifications",
    params(("webhook_id" = String, Path)),
    responses((status = 204, description = "Removed"), (status = 404, description = "No such webhook", body = super::error::ErrorBody)),
    security(("api_key" = [])))]
pub async fn remove(
    state: Shared,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
) -> Result<StatusCode, ApiError> {
    webhooks::remove(&state.services, &caller.name, &id)
        .await?
        .map_err(refused)?;
    Ok(StatusCode::NO_CONTENT)
}

/// The outbox's deliveries, latest change first: what is waiting, what arrived, and what was
/// given up after `notifications.max_attempts` (with the last error).
#[utoipa::path(get, path = "/v1/notifications", operation_id = "list_notification_deliveries", tag = "notifications",
    params(DeliveriesQuery),
    responses((status = 200, description = "Success", body = Vec<Delivery>),
        (status = 400, description = "Malformed request: the error says what", body = super::error::ErrorBody)),
    security(("api_key" = [])))]
pub async fn deliveries(
    state: Shared,
    Params(q): Params<DeliveriesQuery>,
) -> Result<axum::Json<Vec<Delivery>>, ApiError> {
    let limit = state.page_size(q.limit)?;
    if let Some(status) = q.status.as_deref()
        && ![PENDING, DELIVERED, FAILED].contains(&status)
    {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!("status {status:?}: one of pending, delivered, failed"),
        ));
    }
    let found = state
        .services
        .store
        .notification_deliveries(q.status.as_deref(), limit)
        .await?;
    Ok(axum::Json(found.into_iter().map(Delivery::from).collect()))
}

/// Sends a failed delivery again, from its first attempt.
#[utoipa::path(post, path = "/v1/notifications/{delivery_id}/retry", operation_id = "retry_notification_delivery", tag = "notifications",
    params(("delivery_id" = Uuid, Path)),
    responses((status = 204, description = "Queued again"), (status = 404, description = "No failed delivery with this id", body = super::error::ErrorBody)),
    security(("api_key" = [])))]
pub async fn retry(state: Shared, PathParams(id): PathParams<String>) -> Result<StatusCode, ApiError> {
    let id = super::review::uuid_of("delivery", &id)?;
    if !state.services.store.retry_delivery(id, Utc::now()).await? {
        return Err(ApiError::not_found(format!("no failed delivery {id}")));
    }
    Ok(StatusCode::NO_CONTENT)
}
