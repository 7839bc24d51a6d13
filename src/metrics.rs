//! Every Prometheus metric rollcall exports, named and registered here and nowhere else.
//! Names follow `rollcall_<stage>_<name>_<unit>`; labels stay bounded (route, outcome, never a person).

use std::sync::OnceLock;

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder};

pub struct Metrics {
    registry: Registry,
    /// HTTP requests by route template, method and status class.
    pub api_requests: IntCounterVec,
    pub api_request_duration: HistogramVec,
    /// Cached reads by outcome: hit, miss, error (Redis failed; served uncached), bypass (no cache).
    pub api_cache_lookups: IntCounterVec,
    /// Requests refused by the per-key rate limit.
    pub api_rate_limited: IntCounterVec,
    /// 1 while Redis answers, 0 while it does not (or is not configured).
    pub api_cache_up: IntGauge,
    /// Cache invalidations after committed batches, by outcome (ok, failed): failures mean the
    /// cache is degraded (readers stay correct through the generations, but Redis is not helping).
    pub project_cache_invalidations: IntCounterVec,
}

fn build() -> Metrics {
    let registry = Registry::new();
    let api_requests = IntCounterVec::new(
        Opts::new(
            "rollcall_api_requests_total",
            "HTTP requests by route, method and status",
        ),
        &["route", "method", "status"],
    )
    .expect("valid metric");
    let api_request_duration = HistogramVec::new(
        HistogramOpts::new("rollcall_api_request_duration_seconds", "HTTP request latency by route").buckets(vec![
            0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
        ]),
        &["route"],
    )
    .expect("valid metric");
    let api_cache_lookups = IntCounterVec::new(
        Opts::new("rollcall_api_cache_lookups_total", "Cached reads by outcome"),
        &["outcome"],
    )
    .expect("valid metric");
    let api_rate_limited = IntCounterVec::new(
        Opts::new(
            "rollcall_api_rate_limited_total",
            "Requests refused by the rate limit, by key name",
        ),
        &["key"],
    )
    .expect("valid metric");
    let api_cache_up = IntGauge::new("rollcall_api_cache_up", "1 while the Redis cache answers").expect("valid metric");
    let project_cache_invalidations = IntCounterVec::new(
        Opts::new(
            "rollcall_project_cache_invalidations_total",
            "Cache invalidations after committed batches, by outcome",
        ),
        &["outcome"],
    )
    .expect("valid metric");
    for collector in [
        Box::new(api_requests.clone()) as Box<dyn prometheus::core::Collector>,
        Box::new(api_request_duration.clone()),
        Box::new(api_cache_lookups.clone()),
        Box::new(api_rate_limited.clone()),
        Box::new(api_cache_up.clone()),
        Box::new(project_cache_invalidations.clone()),
    ] {
        registry.register(collector).expect("metric names are unique");
    }
    Metrics {
        registry,
        api_requests,
        api_request_duration,
        api_cache_lookups,
        api_rate_limited,
        api_cache_up,
        project_cache_invalidations,
    }
}

/// The process's metrics.
pub fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(build)
}

/// The text exposition format of every metric.
pub fn render() -> String {
    TextEncoder::new()
        .encode_to_string(&metrics().registry.gather())
        .unwrap_or_else(|e| format!("# encoding metrics failed: {e}\n"))
}
