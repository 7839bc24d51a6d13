//! Liveness and readiness (database, cache, model). Metrics are served on a listener of their
//! own (`telemetry.metrics_listen`), not to whoever can reach the API.

use axum::http::StatusCode;
use axum::response::IntoResponse;

use super::Shared;
use super::dto::{Health, Readiness};

/// The process is alive.
#[utoipa::path(get, path = "/healthz", operation_id = "healthz", tag = "health", responses((status = 200, description = "Success", body = Health)))]
pub async fn healthz() -> axum::Json<Health> {
    axum::Json(Health { status: "ok".into() })
}

/// Ready when the database answers and the models are loaded. Redis down makes the cache
/// `degraded`, not the API unready: reads are served uncached.
#[utoipa::path(get, path = "/readyz", operation_id = "readyz", tag = "health",
    responses((status = 200, description = "Success", body = Readiness), (status = 503, description = "Not ready: the body says what is missing", body = Readiness)))]
pub async fn readyz(state: Shared) -> impl IntoResponse {
    let database = state.services.store.ping().await;
    let cache = match &state.services.cache {
        None => "disabled",
        Some(cache) if cache.ping().await => "up",
        Some(_) => "degraded",
    };
    crate::metrics::metrics().api_cache_up.set(i64::from(cache == "up"));
    let model = state.engines.is_some();
    let ready = database && model;
    let body = Readiness {
        status: if ready { "ready" } else { "not_ready" }.into(),
        database: if database { "up" } else { "down" }.into(),
        cache: cache.into(),
        model: if model { "loaded" } else { "missing" }.into(),
    };
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body))
}
