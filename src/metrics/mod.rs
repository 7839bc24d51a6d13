//! Every Prometheus metric rollcall exports, named and registered here and nowhere else.
//! Names follow `rollcall_<stage>_<name>_<unit>`; labels stay bounded (camera, stage, step,
//! outcome, route, partition; never a person), so a dashboard can rely on their cardinality.

use std::net::SocketAddr;
use std::sync::OnceLock;

use anyhow::Context;

use prometheus::{GaugeVec, Histogram, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Registry, TextEncoder};

/// Steps of recognizing one frame, the `step` label of the recognizer's latency histogram.
pub const RECOGNIZE_STEPS: [&str; 5] = ["decode", "detect", "align", "embed", "match"];

/// What the projectors store: attendance events, and unknown faces kept for review.
pub const PROJECTIONS: [&str; 2] = ["attendance", "unknown_faces"];

pub struct Metrics {
    registry: Registry,
    /// Every registered metric's name, sorted.
    names: Vec<String>,
    /// Which build runs which command; `rollcall_build_info{version,command} 1`.
    pub build_info: IntGaugeVec,

    /// Frames read from camera sources, by camera and outcome (published, unreadable, dropped).
    pub ingest_frames: IntCounterVec,
    /// Unix time of the last frame each camera published: "no frames from a camera" alerts on it.
    pub ingest_last_frame: GaugeVec,
    /// 1 while a camera is connected and sending, 0 while it is unreachable (and being retried).
    pub ingest_camera_up: IntGaugeVec,
    /// Times a camera was connected again after losing it.
    pub ingest_reconnects: IntCounterVec,

    /// Frames taken from the bus, by camera.
    pub recognize_frames: IntCounterVec,
    /// Time from capture to the start of recognition, by camera: backlog and clock trouble show here.
    pub recognize_frame_age: HistogramVec,
    /// Time of each step of a frame (decode, detect, align, embed, match).
    pub recognize_step_duration: HistogramVec,
    /// Faces found per frame.
    pub recognize_faces_per_frame: Histogram,
    /// Faces by camera and outcome (recognized, unknown).
    pub recognize_faces: IntCounterVec,
    /// Distance of each accepted match: a drift toward the threshold means the gallery or the
    /// cameras changed.
    pub recognize_match_distance: Histogram,
    /// Distance from unknown faces to their nearest template (absent when the gallery is empty).
    pub recognize_unknown_distance: Histogram,
    /// Attendance events by camera and outcome (emitted, suppressed by the cooldown).
    pub recognize_events: IntCounterVec,
    /// Frames whose detection the track mode skipped: `still` (no motion, no track) or
    /// `coasting` (tracks follow their motion between detections).
    pub recognize_detection_skipped: IntCounterVec,
    /// Ended or decided face tracks by camera and outcome (known, unknown, faceless: never a
    /// usable face).
    pub recognize_tracks: IntCounterVec,
    /// Templates and people in the gallery a recognizer matches against.
    pub recognize_gallery_templates: IntGauge,
    pub recognize_gallery_people: IntGauge,
    /// Bumped each time the gallery is replaced (enrolment or erasure applied).
    pub recognize_gallery_version: IntGauge,
    /// Gallery versions put in place, by kind: `load` (every template read) or `person` (one
    /// person's templates changed in the version in hand).
    pub recognize_gallery_updates: IntCounterVec,
    /// 1 for each model (by role and name) that is loaded and verified.
    pub vision_model_loaded: IntGaugeVec,

    /// Messages sent to a dead-letter topic, by the stage that gave up and the error kind.
    pub bus_dead_letters: IntCounterVec,
    /// Messages between a consumer group's position and the end of each partition.
    pub bus_consumer_lag: IntGaugeVec,

    /// Events per stored batch, by projection (attendance, unknown_faces).
    pub project_batch_events: HistogramVec,
    /// Time to write a batch to the store, retries included, by projection.
    pub project_flush_duration: HistogramVec,
    /// Events stored, by projection and outcome (inserted, duplicate: already there from an
    /// earlier delivery, erased: an erased person's, dropped).
    pub project_events_written: IntCounterVec,
    /// Failed batch writes that were retried, by projection.
    pub project_write_retries: IntCounterVec,
    /// Cache invalidations after committed batches, by outcome (ok, failed): failures mean the
    /// cache is degraded (readers stay correct through the generations, but Redis is not helping).
    pub project_cache_invalidations: IntCounterVec,

    /// HTTP requests by route template, method and status.
    pub api_requests: IntCounterVec,
    pub api_request_duration: HistogramVec,
    /// Cached reads by outcome: hit, miss, error (Redis failed; served uncached), bypass (no cache).
    pub api_cache_lookups: IntCounterVec,
    /// Where cached reads found the generations they are versioned by: memory (the pushed
    /// mirror) or database (channel down, not followed, or a key not seen yet).
    pub cache_generation_lookups: IntCounterVec,
    /// Requests refused by the per-key rate limit.
    pub api_rate_limited: IntCounterVec,
    pub api_auth_failures: IntCounterVec,
    /// 1 while Redis answers, 0 while it does not (or is not configured).
    pub api_cache_up: IntGauge,

    /// People in the running sessions of each group, by status (present, late, left_early,
    /// absent); 0 for groups with no session running. Groups are few and named by admins.
    pub sessions_people: IntGaugeVec,
    /// Sessions running now, per group.
    pub sessions_running: IntGaugeVec,

    /// Clusters of unknown faces by status (open: the review queue; assigned; dismissed).
    pub review_clusters: IntGaugeVec,
    /// Open clusters seen at least `review.flag_after` times.
    pub review_flagged_clusters: IntGauge,

    /// Deliveries in the notification outbox, by channel kind (webhook, mqtt) and status
    /// (pending, delivered, failed).
    pub notification_deliveries: IntGaugeVec,
    /// Delivery attempts by channel kind and outcome (delivered, retried, failed: given up).
    pub notification_attempts: IntCounterVec,
}

mod registry;

use registry::build;

impl Metrics {
    /// Creates the series whose labels are known in advance at zero, so a rate or an alert has
    /// a series to work on before the first failure rather than appearing with it.
    fn init_known_labels(&self) {
        for step in RECOGNIZE_STEPS {
            let _ = self.recognize_step_duration.with_label_values(&[step]);
        }
        for projection in PROJECTIONS {
            for outcome in ["inserted", "duplicate", "erased"] {
                let _ = self.project_events_written.with_label_values(&[projection, outcome]);
            }
            let _ = self.project_write_retries.with_label_values(&[projection]);
            let _ = self.project_batch_events.with_label_values(&[projection]);
            let _ = self.project_flush_duration.with_label_values(&[projection]);
        }
        for outcome in ["ok", "failed"] {
            let _ = self.project_cache_invalidations.with_label_values(&[outcome]);
        }
        for outcome in ["memory", "hit", "miss", "error", "bypass"] {
            let _ = self.api_cache_lookups.with_label_values(&[outcome]);
        }
        for source in ["memory", "database"] {
            let _ = self.cache_generation_lookups.with_label_values(&[source]);
        }
        for kind in ["load", "person"] {
            let _ = self.recognize_gallery_updates.with_label_values(&[kind]);
        }
        for channel in ["webhook", "mqtt"] {
            for outcome in ["delivered", "retried", "failed"] {
                let _ = self.notification_attempts.with_label_values(&[channel, outcome]);
            }
        }
    }

    /// Creates a camera's series at zero when the camera is first seen, for the same reason.
    pub fn camera_seen(&self, camera: &str) {
        for outcome in ["recognized", "unknown"] {
            let _ = self.recognize_faces.with_label_values(&[camera, outcome]);
        }
        for outcome in ["emitted", "suppressed"] {
            let _ = self.recognize_events.with_label_values(&[camera, outcome]);
        }
        for reason in ["still", "coasting"] {
            let _ = self.recognize_detection_skipped.with_label_values(&[camera, reason]);
        }
        for outcome in ["known", "unknown", "faceless"] {
            let _ = self.recognize_tracks.with_label_values(&[camera, outcome]);
        }
    }

    /// Creates a camera source's series: up (or not yet) and no reconnects.
    pub fn camera_started(&self, camera: &str, up: bool) {
        self.ingest_camera_up.with_label_values(&[camera]).set(i64::from(up));
        let _ = self.ingest_reconnects.with_label_values(&[camera]);
        for outcome in ["published", "unreadable", "dropped", "throttled"] {
            let _ = self.ingest_frames.with_label_values(&[camera, outcome]);
        }
    }

    /// Records which command this process runs.
    pub fn set_command(&self, command: &str) {
        self.build_info
            .with_label_values(&[env!("CARGO_PKG_VERSION"), command])
            .set(1);
    }

    /// Every metric name this module registers, for the dashboards' consistency test.
    pub fn names(&self) -> &[String] {
        &self.names
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

/// The content type of `render`'s output.
pub const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Serves `/metrics` and `/healthz` on `listen` until `shutdown`, for the stage processes
/// (`rollcall serve` has both on its API address). Returns the bound address.
pub async fn expose(
    listen: &str,
    limits: crate::http_server::ConnectionLimits,
    shutdown: tokio_util::sync::CancellationToken,
) -> anyhow::Result<SocketAddr> {
    use axum::routing::get;
    let app = axum::Router::new()
        .route(
            "/metrics",
            get(|| async { ([(axum::http::header::CONTENT_TYPE, TEXT_FORMAT)], render()) }),
        )
        .route("/healthz", get(|| async { "ok\n" }));
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding the metrics endpoint to {listen}"))?;
    let address = listener.local_addr()?;
    tokio::spawn(crate::http_server::serve(listener, app, limits, shutdown));
    tracing::info!(%address, "serving /metrics and /healthz");
    Ok(address)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_convention_and_labels_never_name_a_person() {
        let m = metrics();
        let names = m.names();
        assert_eq!(names.len(), 40, "{names:?}");
        let stages = [
            "build",
            "ingest",
            "recognize",
            "vision",
            "bus",
            "project",
            "api",
            "sessions",
            "review",
            "notification",
        ];
        for name in names {
            let stage = name.strip_prefix("rollcall_").and_then(|n| n.split('_').next());
            assert!(stage.is_some_and(|s| stages.contains(&s)), "{name}");
        }
        // Vectors without a child yet are not gathered: give each one, then look at every label.
        m.set_command("test");
        m.camera_seen("door");
        m.ingest_frames.with_label_values(&["door", "published"]).inc();
        m.ingest_last_frame.with_label_values(&["door"]).set(1.0);
        m.ingest_camera_up.with_label_values(&["door"]).set(1);
        m.ingest_reconnects.with_label_values(&["door"]).inc();
        m.recognize_frames.with_label_values(&["door"]).inc();
        m.recognize_frame_age.with_label_values(&["door"]).observe(0.1);
        m.vision_model_loaded.with_label_values(&["detector", "yunet"]).set(1);
        m.bus_dead_letters.with_label_values(&["recognize", "corrupt"]).inc();
        m.bus_consumer_lag.with_label_values(&["recognize", "t", "0"]).set(0);
        m.api_requests.with_label_values(&["/v1/people", "GET", "200"]).inc();
        m.api_request_duration.with_label_values(&["/v1/people"]).observe(0.1);
        m.api_rate_limited.with_label_values(&["desk"]).inc();
        m.sessions_people.with_label_values(&["class-4b", "late"]).set(2);
        m.sessions_running.with_label_values(&["class-4b"]).set(1);
        m.review_clusters.with_label_values(&["open"]).set(2);
        m.notification_deliveries
            .with_label_values(&["webhook", "pending"])
            .set(1);
        let gathered = m.registry.gather();
        assert_eq!(gathered.len(), 39);
        for family in gathered {
            for metric in family.get_metric() {
                for label in metric.get_label() {
                    assert!(!label.name().contains("person"), "{}", family.name());
                }
            }
        }
    }
}
