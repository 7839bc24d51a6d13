//! Liveness, readiness (database, cache, model) and the Prometheus metrics.

use axum::http::{StatusCode, header};
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
    let model = state.engine.is_some();
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

/// Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", operation_id = "metrics", tag = "health",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn prometheus() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, crate::metrics::TEXT_FORMAT)],
        crate::metrics::render(),
    )
}
