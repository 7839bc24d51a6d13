//! The one way a frame leaves a camera: traced as the root of its own trace, sent to the bus,
//! counted, and the camera's last-frame time moved on.

use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::IngestStats;
use crate::bus::Producer;
use crate::domain::{CameraId, Frame};
use crate::telemetry::events::{Emit, FramePublished, FrameUnreadable};

/// A camera's way out to the bus, with its counters.
pub(crate) struct Outlet {
    frames: Arc<dyn Producer<Frame>>,
    pub(crate) stats: IngestStats,
}

impl Outlet {
    pub(crate) fn new(frames: Arc<dyn Producer<Frame>>) -> Self {
        Self {
            frames,
            stats: IngestStats::default(),
        }
    }

    /// Sends `frame`; false if `stop` was cancelled first (the frame is not sent).
    pub(crate) async fn publish(&mut self, frame: Frame, stop: &CancellationToken) -> anyhow::Result<bool> {
        let camera = frame.camera.clone();
        // Each frame starts its own trace; the bus carries its context to the recognizer.
        let span = tracing::info_span!(parent: None, "ingest.frame", camera = %camera, seq = frame.seq);
        tokio::select! {
            _ = stop.cancelled() => return Ok(false),
            sent = self.frames.send(camera.as_str(), frame).instrument(span) => sent.context("publishing a frame")?,
        }
        self.stats.frames += 1;
        FramePublished { camera: &camera }.emit();
        Ok(true)
    }

    /// Sends the camera's end-of-stream marker after its last frame, so that a recognizer
    /// decides the camera's open tracks now rather than waiting for frames that never come.
    pub(crate) async fn end(&mut self, camera: &CameraId, seq: u64, stop: &CancellationToken) -> anyhow::Result<()> {
        let marker = Frame::end_of_stream(camera.clone(), seq, now_ms());
        tokio::select! {
            _ = stop.cancelled() => {}
            sent = self.frames.send(camera.as_str(), marker) => sent.context("publishing a camera's end of stream")?,
        }
        Ok(())
    }

    /// Counts a frame that could not be read, with the reason.
    pub(crate) fn unreadable(&mut self, camera: &CameraId, what: &str, error: &dyn std::fmt::Display) {
        self.stats.unreadable += 1;
        FrameUnreadable { camera, what, error }.emit();
    }
}

/// Now, at the millisecond precision every store and the JSON events keep.
pub(crate) fn now_ms() -> DateTime<Utc> {
    truncate_ms(Utc::now())
}

pub(crate) fn truncate_ms(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(TimeDelta::milliseconds(1)).unwrap_or(at)
}
