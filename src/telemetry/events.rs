//! Notable occurrences, one type each: emitting one writes its log line and moves its metrics
//! together, so what the logs say and what the dashboards count cannot disagree.

use std::fmt::Display;
use std::time::Duration;

use chrono::Utc;

use crate::domain::CameraId;
use crate::metrics::metrics;

/// Logs and counts an occurrence.
pub trait Emit {
    fn emit(self);
}

/// A camera's series exist from its start (up, or not yet), so rates and alerts have data.
pub struct CameraStarted<'a> {
    pub camera: &'a CameraId,
    pub up: bool,
}

impl Emit for CameraStarted<'_> {
    fn emit(self) {
        metrics().camera_started(self.camera.as_str(), self.up);
        tracing::debug!(camera = %self.camera, up = self.up, "camera started");
    }
}

/// A camera (or its folder) answers again; `reconnected` when it had answered before.
pub struct CameraUp<'a> {
    pub camera: &'a CameraId,
    pub reconnected: bool,
}

impl Emit for CameraUp<'_> {
    fn emit(self) {
        let m = metrics();
        m.ingest_camera_up.with_label_values(&[self.camera.as_str()]).set(1);
        if self.reconnected {
            m.ingest_reconnects.with_label_values(&[self.camera.as_str()]).inc();
        }
        tracing::info!(camera = %self.camera, reconnected = self.reconnected, "camera up");
    }
}

/// A camera (or its folder) stopped answering; its source retries with backoff.
pub struct CameraDown<'a> {
    pub camera: &'a CameraId,
    pub error: &'a str,
}

impl Emit for CameraDown<'_> {
    fn emit(self) {
        metrics()
            .ingest_camera_up
            .with_label_values(&[self.camera.as_str()])
            .set(0);
        tracing::warn!(camera = %self.camera, error = self.error, "camera down; retrying");
    }
}

fn count_frame(camera: &CameraId, outcome: &str) {
    metrics()
        .ingest_frames
        .with_label_values(&[camera.as_str(), outcome])
        .inc();
}

/// A frame went out to the bus.
pub struct FramePublished<'a> {
    pub camera: &'a CameraId,
}

impl Emit for FramePublished<'_> {
    fn emit(self) {
        count_frame(self.camera, "published");
        metrics()
            .ingest_last_frame
            .with_label_values(&[self.camera.as_str()])
            .set(Utc::now().timestamp_millis() as f64 / 1000.0);
        tracing::trace!(camera = %self.camera, "frame published");
    }
}

/// A frame file or a camera's image could not be read; it is skipped.
pub struct FrameUnreadable<'a> {
    pub camera: &'a CameraId,
    /// The file, or `image` for a live camera's.
    pub what: &'a str,
    pub error: &'a dyn Display,
}

impl Emit for FrameUnreadable<'_> {
    fn emit(self) {
        count_frame(self.camera, "unreadable");
        tracing::warn!(camera = %self.camera, what = self.what, error = %self.error, "frame unreadable; skipped");
    }
}

/// A live camera sent faster than its fps: the image was not taken.
pub struct FrameThrottled<'a> {
    pub camera: &'a CameraId,
}

impl Emit for FrameThrottled<'_> {
    fn emit(self) {
        count_frame(self.camera, "throttled");
        tracing::trace!(camera = %self.camera, "frame throttled");
    }
}

/// The bus could not keep up with a live camera: a frame was given up by its drop policy.
pub struct FrameDropped<'a> {
    pub camera: &'a CameraId,
}

impl Emit for FrameDropped<'_> {
    fn emit(self) {
        count_frame(self.camera, "dropped");
        tracing::debug!(camera = %self.camera, "frame dropped: the bus is behind");
    }
}

/// A message that can never be processed went to its stage's dead-letter topic.
pub struct DeadLettered<'a> {
    pub stage: &'a str,
    pub kind: &'a str,
    pub reason: &'a str,
    pub key: &'a str,
}

impl Emit for DeadLettered<'_> {
    fn emit(self) {
        metrics()
            .bus_dead_letters
            .with_label_values(&[self.stage, self.kind])
            .inc();
        tracing::warn!(
            stage = self.stage,
            kind = self.kind,
            key = self.key,
            reason = self.reason,
            "dead-lettered"
        );
    }
}

/// A batch of attendance events is stored.
pub struct BatchStored {
    pub projection: &'static str,
    pub events: usize,
    pub inserted: usize,
    pub duplicates: usize,
    pub erased: usize,
    pub took: Duration,
}

impl Emit for BatchStored {
    fn emit(self) {
        let m = metrics();
        let projection = self.projection;
        m.project_batch_events
            .with_label_values(&[projection])
            .observe(self.events as f64);
        m.project_flush_duration
            .with_label_values(&[projection])
            .observe(self.took.as_secs_f64());
        let written = &m.project_events_written;
        written
            .with_label_values(&[projection, "inserted"])
            .inc_by(self.inserted as u64);
        written
            .with_label_values(&[projection, "duplicate"])
            .inc_by(self.duplicates as u64);
        written
            .with_label_values(&[projection, "erased"])
            .inc_by(self.erased as u64);
        tracing::debug!(
            projection,
            inserted = self.inserted,
            duplicates = self.duplicates,
            erased = self.erased,
            "batch stored"
        );
    }
}

/// Storing a batch failed; it is retried after `retry_in`.
pub struct BatchRetried<'a> {
    pub projection: &'static str,
    pub events: usize,
    pub error: &'a dyn Display,
    pub retry_in: Duration,
}

impl Emit for BatchRetried<'_> {
    fn emit(self) {
        metrics()
            .project_write_retries
            .with_label_values(&[self.projection])
            .inc();
        tracing::warn!(projection = self.projection, error = %self.error, batch = self.events, retry_in_ms = self.retry_in.as_millis() as u64, "storing a batch failed; retrying");
    }
}

/// A committed batch's cache keys were invalidated.
pub struct CacheInvalidated {
    pub keys: usize,
}

impl Emit for CacheInvalidated {
    fn emit(self) {
        metrics().project_cache_invalidations.with_label_values(&["ok"]).inc();
        tracing::debug!(keys = self.keys, "cache invalidated");
    }
}

/// Invalidation did not reach Redis. Readers stay correct (keys are versioned); only memory
/// is held longer.
pub struct CacheDegraded<'a> {
    pub keys: usize,
    pub error: &'a dyn Display,
}

impl Emit for CacheDegraded<'_> {
    fn emit(self) {
        metrics()
            .project_cache_invalidations
            .with_label_values(&["failed"])
            .inc();
        tracing::warn!(error = %self.error, keys = self.keys, "cache degraded: invalidation failed (readers are safe: keys are versioned)");
    }
}

/// A cached read could not use Redis: the answer comes from the database, and is counted as
/// an `error` lookup.
pub struct CacheReadDegraded<'a> {
    /// What happened instead: `serving uncached` or `entry not stored`.
    pub what: &'a str,
    pub error: &'a dyn Display,
}

impl Emit for CacheReadDegraded<'_> {
    fn emit(self) {
        metrics().api_cache_lookups.with_label_values(&["error"]).inc();
        tracing::warn!(error = %self.error, "cache degraded: {}", self.what);
    }
}

/// A key's requests went over its rate limit; the request was answered 429.
pub struct RateLimited<'a> {
    pub key: &'a str,
}

impl Emit for RateLimited<'_> {
    fn emit(self) {
        metrics().api_rate_limited.with_label_values(&[self.key]).inc();
        tracing::info!(key = self.key, "rate limited");
    }
}

/// A request came without a valid key (or from an address refused for failing too often).
pub struct AuthenticationFailed<'a> {
    pub address: &'a str,
    pub reason: &'static str,
}

impl Emit for AuthenticationFailed<'_> {
    fn emit(self) {
        metrics().api_auth_failures.with_label_values(&[self.reason]).inc();
        // An address already refused is counted, not logged again: a flood of guesses should not
        // become a flood of log lines.
        if self.reason == "blocked" {
            tracing::debug!(address = self.address, reason = self.reason, "authentication failed");
        } else {
            tracing::warn!(address = self.address, reason = self.reason, "authentication failed");
        }
    }
}
