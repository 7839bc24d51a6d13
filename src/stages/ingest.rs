//! Ingest: reads camera sources and publishes their frames, keyed by camera id.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::bus::Producer;
use crate::config::SourceKind;
use crate::domain::{CameraId, Frame};

/// A folder of images as a camera: replayed in file-name order, or watched for new files.
///
/// A replayed frame's sequence number is its index in that order, so replaying the same folder
/// reproduces the same frames, and the same attendance event ids: a replay adds nothing. A
/// watched frame's sequence number and capture time come from the file's modification time, so
/// a restarted watcher that publishes the folder's files again adds nothing either.
#[derive(Debug, Clone)]
pub struct FolderCamera {
    pub id: CameraId,
    pub path: PathBuf,
    /// Frames per second; 0 = as fast as the bus accepts them.
    pub fps: f64,
    pub watch: bool,
}

/// How often a watched folder is listed. Polling rather than inotify: it works the same on the
/// network shares and bind mounts that upload folders often are.
const WATCH_POLL: Duration = Duration::from_millis(500);

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
                watch: c.watch,
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

/// A file seen in a watched folder: its size and modification time at the last listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileState {
    len: u64,
    modified: std::time::SystemTime,
}

/// Publishes a folder camera's frames: counts outcomes, paces to the fps, starts each frame's trace.
struct Publisher<'a> {
    camera: &'a FolderCamera,
    frames: Arc<dyn Producer<Frame>>,
    stop: &'a CancellationToken,
    pace: Option<tokio::time::Interval>,
    stats: IngestStats,
}

impl Publisher<'_> {
    /// Reads and publishes one file; false once `stop` is cancelled.
    async fn publish(&mut self, path: &Path, seq: u64, captured_at: DateTime<Utc>) -> anyhow::Result<bool> {
        let metrics = crate::metrics::metrics();
        let id = self.camera.id.as_str();
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
                tracing::warn!(camera = %id, file = %path.display(), error = %e, "frame file unreadable, skipped");
                self.stats.unreadable += 1;
                metrics.ingest_frames.with_label_values(&[id, "unreadable"]).inc();
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
        // Each frame starts its own trace; the bus carries its context to the recognizer.
        let span = tracing::info_span!(parent: None, "ingest.frame", camera = %id, seq = frame.seq);
        tokio::select! {
            _ = self.stop.cancelled() => return Ok(false),
            sent = self.frames.send(id, frame).instrument(span) => sent.context("publishing a frame")?,
        }
        self.stats.frames += 1;
        metrics.ingest_frames.with_label_values(&[id, "published"]).inc();
        metrics
            .ingest_last_frame
            .with_label_values(&[id])
            .set(Utc::now().timestamp_millis() as f64 / 1000.0);
        Ok(true)
    }
}

/// Now, at the millisecond precision every store and the JSON events keep.
fn now_ms() -> DateTime<Utc> {
    let now = Utc::now();
    now.duration_trunc(TimeDelta::milliseconds(1)).unwrap_or(now)
}

impl FolderCamera {
    /// Replays the folder once, or watches it until `stop` is cancelled.
    pub async fn run(&self, frames: Arc<dyn Producer<Frame>>, stop: CancellationToken) -> anyhow::Result<IngestStats> {
        // A watched folder may appear later (a share not mounted yet); a replayed one must be there.
        let files = if self.watch {
            Vec::new()
        } else {
            list_frames(&self.path)?
        };
        // A readable folder is a camera that is up; its series start at zero.
        crate::metrics::metrics().camera_started(self.id.as_str(), self.path.is_dir());
        let pace = (self.fps > 0.0).then(|| {
            let mut interval = tokio::time::interval(Duration::from_secs_f64(1.0 / self.fps));
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            interval
        });
        let mut publisher = Publisher {
            camera: self,
            frames,
            stop: &stop,
            pace,
            stats: IngestStats::default(),
        };
        if self.watch {
            self.watch(&mut publisher).await?;
            tracing::info!(camera = %self.id, frames = publisher.stats.frames, "stopped watching the camera folder");
            return Ok(publisher.stats);
        }
        for (seq, path) in files.iter().enumerate() {
            if !publisher.publish(path, seq as u64, now_ms()).await? {
                break;
            }
        }
        tracing::info!(camera = %self.id, frames = publisher.stats.frames, "camera folder replayed");
        Ok(publisher.stats)
    }

    /// Publishes every file of the folder, then each new one, until `stop`. A file is taken once
    /// two listings in a row find it with the same size and modification time: a file still being
    /// written or copied is left for later, not published half-done.
    async fn watch(&self, publisher: &mut Publisher<'_>) -> anyhow::Result<()> {
        let mut published: std::collections::HashSet<PathBuf> = Default::default();
        let mut last_seen: std::collections::HashMap<PathBuf, FileState> = Default::default();
        let mut last_seq: Option<u64> = None;
        let mut listing_failed = false;
        loop {
            let mut ready = Vec::new();
            match self.listing() {
                Ok(listing) => {
                    if std::mem::take(&mut listing_failed) {
                        tracing::info!(camera = %self.id, folder = %self.path.display(), "camera folder readable again");
                        crate::metrics::metrics()
                            .ingest_camera_up
                            .with_label_values(&[self.id.as_str()])
                            .set(1);
                    }
                    // Forget files that are gone, so the sets stay as small as the folder.
                    published.retain(|p| listing.iter().any(|(q, _)| q == p));
                    let mut now_seen = std::collections::HashMap::new();
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
                        tracing::warn!(camera = %self.id, error = %format!("{e:#}"), "camera folder unreadable; retrying");
                        crate::metrics::metrics()
                            .ingest_camera_up
                            .with_label_values(&[self.id.as_str()])
                            .set(0);
                    }
                }
            }
            // Oldest first; the name breaks ties, so the order (and the sequence numbers) repeat.
            ready.sort();
            for (modified, path) in ready {
                let captured_at = DateTime::<Utc>::from(modified)
                    .duration_trunc(TimeDelta::milliseconds(1))
                    .unwrap_or_else(|_| now_ms());
                // Files written within the same millisecond still get distinct sequence numbers.
                let from_time = captured_at.timestamp_millis().max(0) as u64;
                let seq = last_seq.map_or(from_time, |last| from_time.max(last + 1));
                if !publisher.publish(&path, seq, captured_at).await? {
                    return Ok(());
                }
                last_seq = Some(seq);
                published.insert(path);
            }
            tokio::select! {
                _ = publisher.stop.cancelled() => return Ok(()),
                _ = tokio::time::sleep(WATCH_POLL) => {}
            }
        }
    }

    /// The folder's image files with their current size and modification time.
    fn listing(&self) -> anyhow::Result<Vec<(PathBuf, FileState)>> {
        let mut out = Vec::new();
        for path in list_frames(&self.path)? {
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
}
