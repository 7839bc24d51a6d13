//! Folder cameras: a folder of images replayed in file-name order, or watched for new files.
//!
//! A replayed frame's sequence number is its index in that order, so replaying the same folder
//! reproduces the same frames, and the same attendance event ids: a replay adds nothing. A
//! watched frame's sequence number and capture time come from the file's modification time, so
//! a restarted watcher that publishes the folder's files again adds nothing either.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::publish::{Outlet, now_ms, truncate_ms};
use super::{CameraConfig, FrameSource, IngestStats, Pace};
use crate::bus::Producer;
use crate::domain::Frame;
use crate::telemetry::events::{CameraDown, CameraStarted, CameraUp, Emit};

/// `source = "folder"`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FolderConfig {
    /// A folder of JPEG/PNG frames, replayed in file-name order.
    #[serde(default)]
    pub path: PathBuf,
    /// Keep watching the folder and publish each new file once it is completely written,
    /// instead of replaying what is there and stopping.
    #[serde(default)]
    pub watch: bool,
}

/// How often a watched folder is listed. Polling rather than inotify: it works the same on the
/// network shares and bind mounts that upload folders often are.
const WATCH_POLL: Duration = Duration::from_millis(500);

fn content_type(path: &Path) -> Option<&'static str> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "jpg" | "jpeg" => Some("image/jpeg"),
        "png" => Some("image/png"),
        "webp" => Some("image/webp"),
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

/// A file seen in a watched folder: its size and modification time at the last listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileState {
    len: u64,
    modified: std::time::SystemTime,
}

/// One folder camera at work: paces its files to the fps and publishes them.
struct FolderRun<'a> {
    camera: &'a CameraConfig,
    folder: &'a FolderConfig,
    outlet: Outlet,
    stop: CancellationToken,
    pace: Option<tokio::time::Interval>,
}

#[async_trait]
impl FrameSource for FolderConfig {
    async fn run(
        &self,
        camera: &CameraConfig,
        pace: Pace,
        frames: Arc<dyn Producer<Frame>>,
        stop: CancellationToken,
    ) -> anyhow::Result<IngestStats> {
        let fps = pace.fps;
        // A watched folder may appear later (a share not mounted yet); a replayed one must be there.
        let files = if self.watch {
            Vec::new()
        } else {
            list_frames(&self.path)?
        };
        // A readable folder is a camera that is up; its series start at zero.
        CameraStarted {
            camera: &camera.id,
            up: self.path.is_dir(),
        }
        .emit();
        let pace = (fps > 0.0).then(|| {
            let mut interval = tokio::time::interval(Duration::from_secs_f64(1.0 / fps));
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            interval
        });
        let mut run = FolderRun {
            camera,
            folder: self,
            outlet: Outlet::new(frames),
            stop,
            pace,
        };
        if self.watch {
            run.watch().await?;
            tracing::info!(camera = %camera.id, frames = run.outlet.stats.frames, "stopped watching the camera folder");
            return Ok(run.outlet.stats);
        }
        let mut replayed = true;
        for (seq, path) in files.iter().enumerate() {
            if !run.publish(path, seq as u64, now_ms()).await? {
                replayed = false;
                break;
            }
        }
        if replayed {
            run.outlet.end(&camera.id, files.len() as u64, &run.stop).await?;
        }
        tracing::info!(camera = %camera.id, frames = run.outlet.stats.frames, "camera folder replayed");
        Ok(run.outlet.stats)
    }
}

impl FolderRun<'_> {
    /// Reads and publishes one file; false once `stop` is cancelled.
    async fn publish(&mut self, path: &Path, seq: u64, captured_at: DateTime<Utc>) -> anyhow::Result<bool> {
        if let Some(interval) = self.pace.as_mut() {
            tokio::select! {
                _ = self.stop.cancelled() => return Ok(false),
                _ = interval.tick() => {}
            }
        }
        if self.stop.is_cancelled() {
            return Ok(false);
        }
        let data = match tokio::fs::read(path).await {
            Ok(data) => data,
            Err(e) => {
                self.outlet.unreadable(&self.camera.id, &path.display().to_string(), &e);
                return Ok(true);
            }
        };
        let frame = Frame {
            camera: self.camera.id.clone(),
            seq,
            captured_at,
            content_type: content_type(path).unwrap_or("application/octet-stream").to_owned(),
            data,
        };
        self.outlet.publish(frame, &self.stop).await
    }

    /// Publishes every file of the folder, then each new one, until `stop`. A file is taken once
    /// two listings in a row find it with the same size and modification time: a file still being
    /// written or copied is left for later, not published half-done.
    async fn watch(&mut self) -> anyhow::Result<()> {
        let mut published: HashSet<PathBuf> = Default::default();
        let mut last_seen: HashMap<PathBuf, FileState> = Default::default();
        let mut last_seq: Option<u64> = None;
        let mut listing_failed = false;
        loop {
            let mut ready = Vec::new();
            match listing(&self.folder.path) {
                Ok(listing) => {
                    if std::mem::take(&mut listing_failed) {
                        CameraUp {
                            camera: &self.camera.id,
                            reconnected: false,
                        }
                        .emit();
                    }
                    // Forget files that are gone, so the sets stay as small as the folder.
                    published.retain(|p| listing.iter().any(|(q, _)| q == p));
                    let mut now_seen = HashMap::new();
                    for (path, state) in listing {
                        if !published.contains(&path) && last_seen.get(&path) == Some(&state) {
                            ready.push((state.modified, path.clone()));
                        }
                        now_seen.insert(path, state);
                    }
                    last_seen = now_seen;
                }
                Err(e) => {
                    if !std::mem::replace(&mut listing_failed, true) {
                        CameraDown {
                            camera: &self.camera.id,
                            error: &format!("{e:#}"),
                        }
                        .emit();
                    }
                }
            }
            // Oldest first; the name breaks ties, so the order (and the sequence numbers) repeat.
            ready.sort();
            for (modified, path) in ready {
                let captured_at = truncate_ms(DateTime::<Utc>::from(modified));
                // Files written within the same millisecond still get distinct sequence numbers.
                let from_time = captured_at.timestamp_millis().max(0) as u64;
                let seq = last_seq.map_or(from_time, |last| from_time.max(last + 1));
                if !self.publish(&path, seq, captured_at).await? {
                    return Ok(());
                }
                last_seq = Some(seq);
                published.insert(path);
            }
            tokio::select! {
                _ = self.stop.cancelled() => return Ok(()),
                _ = tokio::time::sleep(WATCH_POLL) => {}
            }
        }
    }
}

/// The folder's image files with their current size and modification time.
fn listing(folder: &Path) -> anyhow::Result<Vec<(PathBuf, FileState)>> {
    let mut out = Vec::new();
    for path in list_frames(folder)? {
        // A file removed between the listing and here is simply not there.
        let Ok(meta) = std::fs::metadata(&path) else { continue };
        out.push((
            path,
            FileState {
                len: meta.len(),
                modified: meta.modified()?,
            },
        ));
    }
    Ok(out)
}
