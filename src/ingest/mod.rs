//! Ingest: camera sources read and their frames published on the bus, keyed by camera id.
//!
//! A camera is a [`CameraConfig`]: the settings every camera has, and a [`SourceConfig`] naming
//! its kind of source. Each kind lives in a file of its own here and implements [`FrameSource`].

mod camera;
mod ffmpeg;
mod folder;
mod live;
mod mjpeg;
mod publish;
pub(crate) use publish::truncate_ms;
mod snapshot;
pub mod status;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::bus::Producer;
use crate::domain::{CameraId, Frame};

pub use camera::{CameraConfig, DropPolicy, FrameSource, Pace, SourceConfig};
pub use ffmpeg::FfmpegConfig;
pub use folder::{FolderConfig, list_frames};
pub use live::reencode;
pub use mjpeg::MjpegConfig;
pub use snapshot::SnapshotConfig;

/// `[ingest]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IngestConfig {
    /// Cameras listed explicitly. When empty, every folder under `cameras_dir` is a camera.
    pub cameras: Vec<CameraConfig>,
    pub cameras_dir: PathBuf,
    /// Default frames per second of replayed folders; 0 means as fast as the pipeline takes them.
    pub fps: f64,
    /// How often each camera's state is announced on NATS (when `nats.url` is set).
    pub status_secs: u64,
}

impl IngestConfig {
    /// Defaults with the demo's camera folders under `home`.
    pub fn with_home(home: &std::path::Path) -> Self {
        Self {
            cameras: Vec::new(),
            cameras_dir: home.join("demo/cameras"),
            fps: 0.0,
            status_secs: 10,
        }
    }

    /// The cameras to run: those configured, or one folder camera per folder under `cameras_dir`.
    pub fn resolve_cameras(&self) -> anyhow::Result<Vec<CameraConfig>> {
        if !self.cameras.is_empty() {
            return Ok(self.cameras.clone());
        }
        let dir = &self.cameras_dir;
        let entries = std::fs::read_dir(dir).with_context(|| {
            format!("no cameras configured and camera folder {} is missing: put one folder of images per camera there, or configure [[ingest.cameras]]", dir.display())
        })?;
        let mut found = Vec::new();
        for entry in entries {
            let path = entry?.path();
            if !path.is_dir() {
                continue;
            }
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
            let id = CameraId::from_name(&name).with_context(|| format!("camera folder {}", path.display()))?;
            found.push(CameraConfig {
                name: Some(name),
                ..CameraConfig::folder(id, path.clone())
            });
        }
        found.sort_by(|a, b| a.id.cmp(&b.id));
        if found.is_empty() {
            bail!("no camera folders under {}", dir.display());
        }
        Ok(found)
    }
}

/// What one camera, or all of them, published.
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

/// Runs every camera at once (each at its own fps, or `default_fps`) into `frames`: folders are
/// replayed, live cameras captured until `stop`. Returns the summed stats when all are done.
pub async fn run_cameras(
    cameras: &[CameraConfig],
    default_fps: f64,
    max_pixels: u64,
    frames: Arc<dyn Producer<Frame>>,
    stop: CancellationToken,
) -> anyhow::Result<IngestStats> {
    let mut tasks = tokio::task::JoinSet::new();
    for camera in cameras {
        let (camera, frames, stop) = (camera.clone(), Arc::clone(&frames), stop.clone());
        let pace = Pace {
            fps: camera.fps.unwrap_or(default_fps),
            max_pixels,
        };
        tasks.spawn(async move { camera.source.frame_source().run(&camera, pace, frames, stop).await });
    }
    // Only the tasks hold the producer now: when they end, the topic can close.
    drop(frames);
    let mut stats = IngestStats::default();
    while let Some(done) = tasks.join_next().await {
        stats.add(&done.context("ingest task panicked")??);
    }
    Ok(stats)
}
