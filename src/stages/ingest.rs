//! Ingest: reads camera sources and publishes their frames, keyed by camera id.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::{DurationRound, TimeDelta, Utc};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::bus::Producer;
use crate::config::SourceKind;
use crate::domain::{CameraId, Frame};

/// A folder of images replayed as a camera, in file-name order.
///
/// A frame's sequence number is its index in that order, so replaying the same folder
/// reproduces the same frames, and the same attendance event ids: a replay adds nothing.
#[derive(Debug, Clone)]
pub struct FolderCamera {
    pub id: CameraId,
    pub path: PathBuf,
    /// Frames per second; 0 = as fast as the bus accepts them.
    pub fps: f64,
}

/// What one camera published.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct IngestStats {
    pub frames: u64,
    pub unreadable: u64,
}

impl IngestStats {
    pub fn add(&mut self, other: &IngestStats) {
        self.frames += other.frames;
        self.unreadable += other.unreadable;
    }
}

fn content_type(path: &Path) -> Option<&'static str> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "jpg" | "jpeg" => Some("image/jpeg"),
        "png" => Some("image/png"),
        _ => None,
    }
}

/// The image files of a folder, sorted by name. Other files are ignored.
pub fn list_frames(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading camera folder {}", dir.display()))? {
        let path = entry?.path();
        if path.is_file() && content_type(&path).is_some() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Runs every camera at once (each at its own fps, or `default_fps`) into `frames`: folders are
/// replayed, live cameras captured until `stop`. Returns the summed stats when all are done.
pub async fn replay_cameras(
    cameras: &[crate::config::CameraConfig],
    default_fps: f64,
    frames: Arc<dyn Producer<Frame>>,
    stop: CancellationToken,
) -> anyhow::Result<IngestStats> {
    let mut tasks = tokio::task::JoinSet::new();
    for c in cameras {
        let (frames, stop) = (Arc::clone(&frames), stop.clone());
        if c.source == SourceKind::Folder {
            let camera = FolderCamera {
                id: c.id.clone(),
                path: c.path.clone(),
                fps: c.fps.unwrap_or(default_fps),
            };
            tasks.spawn(async move { camera.run(frames, stop).await });
        } else {
            let camera = c.clone();
            tasks.spawn(async move { super::sources::run_live(&camera, default_fps, frames, stop).await });
        }
    }
    // Only the tasks hold the producer now: when they end, the topic can close.
    drop(frames);
    let mut stats = IngestStats::default();
    while let Some(done) = tasks.join_next().await {
        stats.add(&done.context("ingest task panicked")??);
    }
    Ok(stats)
}

impl FolderCamera {
    /// Publishes every frame once, paced at `fps`, until done or `stop` is cancelled.
    pub async fn run(&self, frames: Arc<dyn Producer<Frame>>, stop: CancellationToken) -> anyhow::Result<IngestStats> {
        let files = list_frames(&self.path)?;
        let mut stats = IngestStats::default();
        let metrics = crate::metrics::metrics();
        // A readable folder is a camera that is up; its series start at zero.
        metrics.camera_started(self.id.as_str(), true);
        let count = |outcome: &str| metrics.ingest_frames.with_label_values(&[self.id.as_str(), outcome]);
        let (published, unreadable) = (count("published"), count("unreadable"));
        let mut pace = (self.fps > 0.0).then(|| {
            let mut interval = tokio::time::interval(Duration::from_secs_f64(1.0 / self.fps));
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            interval
        });
        for (seq, path) in files.iter().enumerate() {
            if let Some(interval) = pace.as_mut() {
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = interval.tick() => {}
                }
            }
            if stop.is_cancelled() {
                break;
            }
            let data = match tokio::fs::read(path).await {
                Ok(data) => data,
                Err(e) => {
                    tracing::warn!(camera = %self.id, file = %path.display(), error = %e, "frame file unreadable, skipped");
                    stats.unreadable += 1;
                    unreadable.inc();
                    continue;
                }
            };
            let frame = Frame {
                camera: self.id.clone(),
                seq: seq as u64,
                // Millisecond precision: what every store and the JSON events keep.
                captured_at: Utc::now()
                    .duration_trunc(TimeDelta::milliseconds(1))
                    .unwrap_or_else(|_| Utc::now()),
                content_type: content_type(path).unwrap_or("application/octet-stream").to_owned(),
                data,
            };
            // Each frame starts its own trace; the bus carries its context to the recognizer.
            let span = tracing::info_span!(parent: None, "ingest.frame", camera = %self.id, seq = frame.seq);
            tokio::select! {
                _ = stop.cancelled() => break,
                sent = frames.send(self.id.as_str(), frame).instrument(span) => sent.context("publishing a frame")?,
            }
            stats.frames += 1;
            published.inc();
            metrics
                .ingest_last_frame
                .with_label_values(&[self.id.as_str()])
                .set(Utc::now().timestamp_millis() as f64 / 1000.0);
        }
        tracing::info!(camera = %self.id, frames = stats.frames, "camera folder replayed");
        Ok(stats)
    }
}
