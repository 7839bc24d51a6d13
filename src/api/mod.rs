//! `rollcall serve`: the HTTP API over the store the projector fills. People and enrolment,
//! erasure with an audit trail, attendance reads through the Redis cache, cameras, health.

mod attendance;
mod audit;
mod auth;
mod cached;
mod cameras;
pub mod config;
pub(crate) mod console;
mod corrections;
mod dto;
pub mod error;
mod extract;
pub mod groups;
mod health;
pub mod hot;
mod limits;
mod notifications;
mod openapi;
mod people;
mod review;
mod review_decisions;
mod review_matches;
pub mod schedule_memo;
mod schedules;

pub use config::{ApiConfig, ApiKeyConfig, ApiRole};
use std::ops::Deref;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::Response;
use axum::routing::{MethodRouter, delete, get, patch, post, put};
use tokio_util::sync::CancellationToken;

pub use auth::{Caller, KeyRing, RateLimiter};
pub use cached::CachedJson;
pub use openapi::openapi_json;

use crate::cache::Cache;
use crate::config::Config;
use crate::enroll::EnrolCriteria;
use crate::metrics::metrics;
use crate::store::Store;
use crate::usecases::Services;
use crate::vision::EnginePool;
use error::ApiError;

/// Everything the handlers share.
pub struct ApiContext {
    /// The store, the cache and NATS, as every use case takes them.
    pub services: Services,
    /// For enrolment; `None` leaves the API up but not ready (and enrolment answers 503).
    pub engines: Option<Arc<EnginePool>>,
    pub model_id: String,
    pub criteria: EnrolCriteria,
    pub config: ApiConfig,
    pub keys: KeyRing,
    pub limiter: RateLimiter,
    /// Failed authentications per client address.
    pub auth_failures: RateLimiter,
    pub schedules: schedule_memo::ScheduleMemo,
    /// Cached bodies of this process, in front of Redis.
    pub hot: hot::HotBodies,
    pub review: crate::review::ReviewConfig,
    /// Where attendance corrections go: the attendance topic on Kafka, else straight to the store.
    pub corrections: crate::usecases::corrections::CorrectionLog,
    /// The cameras' states as their ingestors announce them, for the console.
    pub(crate) camera_board: console::board::CameraBoard,
}

/// `api.auth_failures_per_minute` per address, with a burst of as many.
pub fn auth_failure_limiter(config: &ApiConfig) -> RateLimiter {
    let per_minute = config.auth_failures_per_minute;
    RateLimiter::with_burst(per_minute, f64::from(per_minute.max(1)))
}

#[derive(Clone)]
pub struct ApiState(Arc<ApiContext>);

impl Deref for ApiState {
    type Target = ApiContext;
    fn deref(&self) -> &ApiContext {
        &self.0
    }
}

impl ApiState {
    pub fn new(context: ApiContext) -> Self {
        Self(Arc::new(context))
    }

    /// Builds the state from configuration: store (waited for), cache, NATS, models.
    pub async fn from_config(config: &Config, shutdown: &CancellationToken) -> anyhow::Result<ApiState> {
        let p = &config.project;
        let backoff = crate::retry::Backoff::new(
            Duration::from_millis(p.retry_initial_ms),
            Duration::from_millis(p.retry_max_ms),
        );
        let store = Store::open_retrying(&config.store.url, config.store.max_connections, backoff, shutdown).await?;
        let cache = config.redis.url.as_deref().map(Cache::connect).transpose()?;
        if cache.is_some() {
            // Cached reads then take their generations from memory (PostgreSQL only).
            store.follow_generations(shutdown.clone());
        }
        let nats = crate::control::Nats::connect(&config.nats).await?;
        let count = match config.api.analysis_engines {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            n => n,
        };
        let engines = EnginePool::new(crate::topology::load_engines(config, count).await?)?;
        if config.api.keys.is_empty() {
            tracing::warn!("no API keys configured ([api.keys]): every /v1 route will answer 401");
        }
        let mut state = ApiState::assemble(
            config,
            Services { store, cache, nats },
            Some(engines),
            KeyRing::new(&config.api.keys),
            RateLimiter::new(config.api.rate_limit_per_minute),
        );
        if config.bus.kind == crate::bus::BusKind::Kafka {
            let topic = crate::bus::Bus::corrections_producer(&crate::bus::kafka::KafkaBus::new(&config.kafka))?;
            let context = Arc::get_mut(&mut state.0).expect("the state is not shared yet");
            context.corrections = crate::usecases::corrections::CorrectionLog(Some(topic));
        }
        tokio::spawn(state.clone().drop_hot_bodies_every(shutdown.clone()));
        Ok(state)
    }

    /// The state over `services` with the configuration's enrolment criteria, API settings and
    /// caches, and the given keys and rate limit: `from_config` and the benchmarks' servers.
    pub fn assemble(
        config: &Config,
        services: Services,
        engines: Option<EnginePool>,
        keys: KeyRing,
        limiter: RateLimiter,
    ) -> ApiState {
        ApiState::new(ApiContext {
            model_id: engines
                .as_ref()
                .map_or_else(|| config.models.recognizer.clone(), |e| e.model_id().to_owned()),
            engines: engines.map(Arc::new),
            services,
            criteria: EnrolCriteria::from_config(&config.vision),
            keys,
            limiter,
            auth_failures: auth_failure_limiter(&config.api),
            config: config.api.clone(),
            schedules: Default::default(),
            hot: hot::HotBodies::new(config.api.hot_cache_mb * 1024 * 1024),
            review: config.review.clone(),
            corrections: Default::default(),
            camera_board: Default::default(),
        })
    }

    /// Empties the layer of cached bodies in memory every `api.hot_cache_secs` until `stop`.
    pub async fn drop_hot_bodies_every(self, stop: CancellationToken) {
        let mut tick = tokio::time::interval(Duration::from_secs(self.config.hot_cache_secs.max(1)));
        tick.tick().await;
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tick.tick() => self.hot.clear(),
            }
        }
    }

    /// The page size a request asks for, bounded by the configuration.
    pub fn page_size(&self, asked: Option<u32>) -> Result<u64, ApiError> {
        match asked {
            None => Ok(u64::from(self.config.default_page_size)),
            Some(0) => Err(ApiError::bad_request("invalid_query", "limit must be at least 1")),
            Some(n) if n > self.config.max_page_size => Err(ApiError::bad_request(
                "invalid_query",
                format!("limit must be at most {}", self.config.max_page_size),
            )),
            Some(n) => Ok(u64::from(n)),
        }
    }
}

/// Opaque page cursors: the last id of a page, hex-encoded with a version tag.
pub mod cursor {
    use super::ApiError;

    pub fn encode(last_id: &str) -> String {
        hex::encode(format!("v1:{last_id}"))
    }

    /// The id after which the next page starts; a cursor this API did not make is a 400.
    pub fn decode(cursor: &str) -> Result<String, ApiError> {
        let invalid = || ApiError::bad_request("invalid_cursor", "the cursor is not one this API returned");
        let bytes = hex::decode(cursor).map_err(|_| invalid())?;
        let text = String::from_utf8(bytes).map_err(|_| invalid())?;
        let id = text.strip_prefix("v1:").ok_or_else(invalid)?;
        crate::domain::PersonId::parse(id).map_err(|_| invalid())?;
        Ok(id.to_owned())
    }
}

/// Counts and times every request by route template.
async fn observe(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |m| m.as_str())
        .to_owned();
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let m = metrics();
    m.api_request_duration
        .with_label_values(&[route.as_str()])
        .observe(started.elapsed().as_secs_f64());
    m.api_requests
        .with_label_values(&[route.as_str(), method.as_str(), response.status().as_str()])
        .inc();
    response
}

/// Every route. Reader routes need any valid key; admin routes an admin key.
pub fn router(state: ApiState) -> Router {
    // Authentication first (the outer layer), then the body is read within its deadline.
    let body_within =
        |route: MethodRouter<ApiState>| route.route_layer(from_fn_with_state(state.clone(), limits::read_body_within));
    let reader = |route: MethodRouter<ApiState>| {
        body_within(route).route_layer(from_fn_with_state(state.clone(), auth::require_reader))
    };
    let admin = |route: MethodRouter<ApiState>| {
        body_within(route).route_layer(from_fn_with_state(state.clone(), auth::require_admin))
    };
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/openapi.json", get(openapi::document))
        .route(
            "/v1/people",
            reader(get(people::list)).merge(admin(post(people::create))),
        )
        .route(
            "/v1/people/{id}",
            reader(get(people::show))
                .merge(admin(patch(people::update)))
                .merge(admin(delete(people::erase))),
        )
        .route("/v1/people/{id}/photos", admin(post(people::enrol)))
        .route("/v1/people/{id}/attendance", reader(get(attendance::person)))
        .route("/v1/attendance/days/{day}", reader(get(attendance::day)))
        .route("/v1/stats/daily/{day}", reader(get(attendance::daily_stats)))
        .route(
            "/v1/cameras",
            reader(get(cameras::list)).merge(admin(post(cameras::register))),
        )
        .route("/v1/cameras/{id}/role", admin(put(cameras::set_role)))
        .route("/v1/audit", admin(get(audit::audit)))
        .route(
            "/v1/groups",
            reader(get(groups::list)).merge(admin(post(groups::create))),
        )
        .route(
            "/v1/groups/{id}",
            reader(get(groups::show)).merge(admin(delete(groups::delete))),
        )
        .route(
            "/v1/groups/{id}/members/{person_id}",
            admin(put(groups::add_member)).merge(admin(delete(groups::remove_member))),
        )
        .route("/v1/groups/{id}/absentees", reader(get(groups::absentees)))
        .route("/v1/groups/{id}/schedules", admin(post(schedules::create_schedule)))
        .route(
            "/v1/schedules/{id}",
            reader(get(schedules::show_schedule))
                .merge(admin(put(schedules::replace_schedule)))
                .merge(admin(delete(schedules::delete_schedule))),
        )
        .route("/v1/schedules/{id}/sessions", reader(get(schedules::sessions)))
        .route(
            "/v1/schedules/{id}/sessions/{date}",
            reader(get(schedules::session_report)),
        )
        .route("/v1/people/{id}/sessions", reader(get(schedules::person_sessions)))
        .route("/v1/review/clusters", reader(get(review::clusters)))
        .route("/v1/review/clusters/{cluster_id}", reader(get(review::cluster)))
        .route(
            "/v1/review/clusters/{cluster_id}/dismiss",
            admin(post(review_decisions::dismiss)),
        )
        .route("/v1/review/assignments", admin(post(review_decisions::assign)))
        .route(
            "/v1/review/faces/{face_id}/not-person",
            admin(post(review_decisions::face_not_person)),
        )
        .route(
            "/v1/people/{id}/negatives",
            admin(post(review_decisions::photos_not_person)),
        )
        .route("/v1/review/faces/{face_id}/crop", reader(get(review::crop)))
        .route("/v1/review/matches", reader(get(review_matches::matches)))
        .route(
            "/v1/review/matches/{face_id}/confirm",
            admin(post(review_matches::confirm)),
        )
        .route(
            "/v1/webhooks",
            admin(get(notifications::list)).merge(admin(post(notifications::add))),
        )
        .route("/v1/webhooks/{webhook_id}", admin(delete(notifications::remove)))
        .route("/v1/notifications", admin(get(notifications::deliveries)))
        .route(
            "/v1/notifications/{delivery_id}/retry",
            admin(post(notifications::retry)),
        )
        .route("/v1/people/{id}/events", reader(get(corrections::events)))
        .route("/v1/attendance/retractions", admin(post(corrections::retract)))
        .route("/v1/attendance/additions", admin(post(corrections::add)))
        .merge(console::router(state.clone()))
        .fallback(error::no_route)
        .method_not_allowed_fallback(error::wrong_method)
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .layer(from_fn_with_state(state.clone(), limits::limit_declared_size))
        .layer(from_fn(limits::close_after_error_with_body))
        .layer(from_fn(observe))
        .with_state(state)
}

/// Binds `api.listen` (and `telemetry.metrics_listen` when set) and serves in the background until
/// `shutdown` (answers in progress get `api.shutdown_grace_secs` to finish). Returns the bound address (useful with port 0) and the server task.
pub async fn start(
    config: &Config,
    shutdown: CancellationToken,
) -> anyhow::Result<(std::net::SocketAddr, tokio::task::JoinHandle<anyhow::Result<()>>)> {
    let state = ApiState::from_config(config, &shutdown).await?;
    let listener = tokio::net::TcpListener::bind(&config.api.listen)
        .await
        .with_context(|| format!("listening on {}", config.api.listen))?;
    let address = listener.local_addr()?;
    tracing::info!(%address, "API listening");
    let interval = Duration::from_secs(config.api.session_metrics_interval_secs.max(1));
    tokio::spawn(crate::sessions::monitor::run(
        state.services.store.clone(),
        interval,
        shutdown.clone(),
    ));
    tokio::spawn(crate::operations::review_queue::run(
        state.services.store.clone(),
        config.review.clone(),
        interval,
        shutdown.clone(),
    ));
    if let Some(nats) = state.services.nats.clone() {
        tokio::spawn(state.camera_board.clone().follow(nats, shutdown.clone()));
    }
    if config.notifications.dispatch {
        let store = state.services.store.clone();
        let dispatcher =
            crate::notify::dispatch::Dispatcher::new(store, config.notifications.clone(), config.review.clone())
                .await?;
        tokio::spawn(dispatcher.run(shutdown.clone()));
    }
    if let Some(listen) = &config.telemetry.metrics_listen {
        crate::metrics::expose(listen, connection_limits(&config.api), shutdown.clone()).await?;
    }
    let limits = connection_limits(&config.api);
    let server = tokio::spawn(async move {
        crate::http_server::serve(listener, router(state), limits, shutdown).await;
        Ok(())
    });
    Ok((address, server))
}

pub fn connection_limits(config: &ApiConfig) -> crate::http_server::ConnectionLimits {
    crate::http_server::ConnectionLimits {
        header_timeout: Duration::from_secs(config.header_timeout_secs),
        shutdown_grace: Duration::from_secs(config.shutdown_grace_secs),
    }
}

/// `rollcall serve`: serves until `shutdown`.
pub async fn serve(config: &Config, shutdown: CancellationToken) -> anyhow::Result<()> {
    let (address, server) = start(config, shutdown).await?;
    println!("listening on http://{address}");
    server.await.context("API server task")?
}

/// The state's `State` extractor type, for handlers.
pub type Shared = State<ApiState>;
