//! Registration of every metric: its name, help, buckets and labels, in one place.

use prometheus::core::Collector;
use prometheus::{
    GaugeVec, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
};

use super::Metrics;

/// Latency buckets from half a millisecond to ten seconds, for every stage's timings.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Frame age at recognition: from real time (10 ms) to a backlog of ten minutes.
const AGE_BUCKETS: &[f64] = &[
    0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 600.0,
];
/// Face-embedding distances: the interesting part is around the threshold (0.6 for dlib).
const DISTANCE_BUCKETS: &[f64] = &[
    0.1, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.8, 0.9, 1.0, 1.2,
];

fn counter(name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric")
}

fn histogram(name: &str, help: &str, buckets: &[f64], labels: &[&str]) -> HistogramVec {
    HistogramVec::new(HistogramOpts::new(name, help).buckets(buckets.to_vec()), labels).expect("valid metric")
}

fn histogram1(name: &str, help: &str, buckets: &[f64]) -> Histogram {
    Histogram::with_opts(HistogramOpts::new(name, help).buckets(buckets.to_vec())).expect("valid metric")
}

fn gauge(name: &str, help: &str) -> IntGauge {
    IntGauge::new(name, help).expect("valid metric")
}

fn gauges(name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    IntGaugeVec::new(Opts::new(name, help), labels).expect("valid metric")
}

pub(super) fn build() -> Metrics {
    let mut m = Metrics {
        registry: Registry::new(),
        names: Vec::new(),
        build_info: gauges(
            "rollcall_build_info",
            "Always 1: the version and command of this process",
            &["version", "command"],
        ),
        ingest_frames: counter(
            "rollcall_ingest_frames_total",
            "Frames read from camera sources, by camera and outcome",
            &["camera", "outcome"],
        ),
        ingest_last_frame: GaugeVec::new(
            Opts::new(
                "rollcall_ingest_last_frame_timestamp_seconds",
                "Unix time of the last frame each camera published",
            ),
            &["camera"],
        )
        .expect("valid metric"),
        ingest_camera_up: gauges(
            "rollcall_ingest_camera_up",
            "1 while a camera is connected and sending frames, 0 while it is unreachable",
            &["camera"],
        ),
        ingest_reconnects: counter(
            "rollcall_ingest_reconnects_total",
            "Times a camera was connected again after losing it",
            &["camera"],
        ),
        recognize_frames: counter(
            "rollcall_recognize_frames_total",
            "Frames taken from the bus by recognizers, by camera",
            &["camera"],
        ),
        recognize_frame_age: histogram(
            "rollcall_recognize_frame_age_seconds",
            "Time from capture to the start of recognition, by camera",
            AGE_BUCKETS,
            &["camera"],
        ),
        recognize_step_duration: histogram(
            "rollcall_recognize_step_duration_seconds",
            "Time of each step of recognizing a frame",
            LATENCY_BUCKETS,
            &["step"],
        ),
        recognize_faces_per_frame: histogram1(
            "rollcall_recognize_faces_per_frame",
            "Faces found per frame",
            &[0.0, 1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 21.0],
        ),
        recognize_faces: counter(
            "rollcall_recognize_faces_total",
            "Faces by camera and outcome (recognized, unknown)",
            &["camera", "outcome"],
        ),
        recognize_detection_skipped: counter(
            "rollcall_recognize_detection_skipped_total",
            "Frames not given to the detector in track mode, by camera and reason (still, coasting)",
            &["camera", "reason"],
        ),
        recognize_tracks: counter(
            "rollcall_recognize_tracks_total",
            "Face tracks decided or ended, by camera and outcome (known, unknown, faceless)",
            &["camera", "outcome"],
        ),
        recognize_match_distance: histogram1(
            "rollcall_recognize_match_distance",
            "Embedding distance of each accepted match",
            DISTANCE_BUCKETS,
        ),
        recognize_unknown_distance: histogram1(
            "rollcall_recognize_unknown_nearest_distance",
            "Embedding distance from an unknown face to its nearest template",
            DISTANCE_BUCKETS,
        ),
        recognize_events: counter(
            "rollcall_recognize_events_total",
            "Attendance events by camera and outcome (emitted, suppressed by the cooldown)",
            &["camera", "outcome"],
        ),
        recognize_gallery_templates: gauge(
            "rollcall_recognize_gallery_templates",
            "Templates in the gallery recognizers match against",
        ),
        recognize_gallery_people: gauge(
            "rollcall_recognize_gallery_people",
            "People in the gallery recognizers match against",
        ),
        recognize_gallery_version: gauge(
            "rollcall_recognize_gallery_version",
            "Times the gallery was loaded or replaced since the process started",
        ),
        recognize_gallery_updates: counter(
            "rollcall_recognize_gallery_updates_total",
            "Gallery versions put in place, by kind (load: every template read; person: one person changed)",
            &["kind"],
        ),
        vision_model_loaded: gauges(
            "rollcall_vision_model_loaded",
            "1 for each model that is loaded and verified, by role and name",
            &["role", "model"],
        ),
        bus_dead_letters: counter(
            "rollcall_bus_dead_letters_total",
            "Messages sent to a dead-letter topic, by stage and error kind",
            &["stage", "reason"],
        ),
        bus_consumer_lag: gauges(
            "rollcall_bus_consumer_lag_messages",
            "Messages between the consumer group's position and the end of each partition",
            &["stage", "topic", "partition"],
        ),
        project_batch_events: histogram(
            "rollcall_project_batch_events",
            "Events per stored batch, by projection",
            &[1.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 5000.0],
            &["projection"],
        ),
        project_flush_duration: histogram(
            "rollcall_project_flush_duration_seconds",
            "Time to store a batch, retries included, by projection",
            LATENCY_BUCKETS,
            &["projection"],
        ),
        project_events_written: counter(
            "rollcall_project_events_written_total",
            "Events written, by projection and outcome (inserted, duplicate, erased: dropped as an erased person's)",
            &["projection", "outcome"],
        ),
        project_write_retries: counter(
            "rollcall_project_write_retries_total",
            "Failed batch writes that were retried, by projection",
            &["projection"],
        ),
        project_cache_invalidations: counter(
            "rollcall_project_cache_invalidations_total",
            "Cache invalidations after committed batches, by outcome",
            &["outcome"],
        ),
        api_requests: counter(
            "rollcall_api_requests_total",
            "HTTP requests by route, method and status",
            &["route", "method", "status"],
        ),
        api_request_duration: histogram(
            "rollcall_api_request_duration_seconds",
            "HTTP request latency by route",
            LATENCY_BUCKETS,
            &["route"],
        ),
        api_cache_lookups: counter(
            "rollcall_api_cache_lookups_total",
            "Cached reads by outcome",
            &["outcome"],
        ),
        cache_generation_lookups: counter(
            "rollcall_api_cache_generation_lookups_total",
            "Where cached reads found their cache generations: memory (pushed) or database",
            &["source"],
        ),
        api_rate_limited: counter(
            "rollcall_api_rate_limited_total",
            "Requests refused by the rate limit, by key name",
            &["key"],
        ),
        api_auth_failures: counter(
            "rollcall_api_auth_failures_total",
            "Requests refused for want of a valid key, by reason (missing, wrong, blocked)",
            &["reason"],
        ),
        api_cache_up: gauge("rollcall_api_cache_up", "1 while the Redis cache answers"),
        sessions_people: gauges(
            "rollcall_sessions_people",
            "People in each group's running sessions, by status",
            &["group", "status"],
        ),
        sessions_running: gauges(
            "rollcall_sessions_running",
            "Sessions running now, per group",
            &["group"],
        ),
        review_clusters: gauges(
            "rollcall_review_clusters",
            "Clusters of unknown faces by status (open: waiting for review)",
            &["status"],
        ),
        review_flagged_clusters: gauge(
            "rollcall_review_flagged_clusters",
            "Open clusters of unknown faces seen at least review.flag_after times",
        ),
        notification_deliveries: gauges(
            "rollcall_notification_deliveries",
            "Deliveries in the notification outbox by channel kind and status (pending, delivered, failed)",
            &["channel", "status"],
        ),
        notification_attempts: counter(
            "rollcall_notification_attempts_total",
            "Notification delivery attempts by channel kind and outcome (delivered, retried, failed: given up)",
            &["channel", "outcome"],
        ),
    };
    let collectors: Vec<Box<dyn Collector>> = vec![
        Box::new(m.build_info.clone()),
        Box::new(m.ingest_frames.clone()),
        Box::new(m.ingest_last_frame.clone()),
        Box::new(m.ingest_camera_up.clone()),
        Box::new(m.ingest_reconnects.clone()),
        Box::new(m.recognize_frames.clone()),
        Box::new(m.recognize_frame_age.clone()),
        Box::new(m.recognize_step_duration.clone()),
        Box::new(m.recognize_faces_per_frame.clone()),
        Box::new(m.recognize_faces.clone()),
        Box::new(m.recognize_detection_skipped.clone()),
        Box::new(m.recognize_tracks.clone()),
        Box::new(m.recognize_match_distance.clone()),
        Box::new(m.recognize_unknown_distance.clone()),
        Box::new(m.recognize_events.clone()),
        Box::new(m.recognize_gallery_templates.clone()),
        Box::new(m.recognize_gallery_people.clone()),
        Box::new(m.recognize_gallery_version.clone()),
        Box::new(m.recognize_gallery_updates.clone()),
        Box::new(m.vision_model_loaded.clone()),
        Box::new(m.bus_dead_letters.clone()),
        Box::new(m.bus_consumer_lag.clone()),
        Box::new(m.project_batch_events.clone()),
        Box::new(m.project_flush_duration.clone()),
        Box::new(m.project_events_written.clone()),
        Box::new(m.project_write_retries.clone()),
        Box::new(m.project_cache_invalidations.clone()),
        Box::new(m.api_requests.clone()),
        Box::new(m.api_request_duration.clone()),
        Box::new(m.api_cache_lookups.clone()),
        Box::new(m.api_rate_limited.clone()),
        Box::new(m.api_auth_failures.clone()),
        Box::new(m.api_cache_up.clone()),
        Box::new(m.cache_generation_lookups.clone()),
        Box::new(m.sessions_people.clone()),
        Box::new(m.sessions_running.clone()),
        Box::new(m.review_clusters.clone()),
        Box::new(m.review_flagged_clusters.clone()),
        Box::new(m.notification_deliveries.clone()),
        Box::new(m.notification_attempts.clone()),
    ];
    for collector in collectors {
        m.names.extend(collector.desc().iter().map(|d| d.fq_name.clone()));
        m.registry.register(collector).expect("metric names are unique");
    }
    m.names.sort();
    m.init_known_labels();
    m
}
