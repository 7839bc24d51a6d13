//! What every live camera shares (HTTP snapshots, MJPEG streams, ffmpeg): capture runs beside a
//! publishing loop; frames are paced to the fps, re-encoded to JPEG at the camera's quality and
//! size, and when the bus cannot keep up the drop policy decides which frame is given up. Each
//! source reconnects with backoff when its camera disappears and reports its health.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::publish::{Outlet, now_ms, truncate_ms};
use super::{CameraConfig, DropPolicy, FrameSource, IngestStats, Pace};
use crate::bus::Producer;
use crate::domain::{CameraId, Frame};
use crate::retry::Backoff;
use crate::telemetry::events::{CameraDown, CameraStarted, CameraUp, Emit, FrameDropped, FrameThrottled};

/// A live source's capture loop: hands images to `delivery` until `stop` (or its input ends).
#[async_trait]
pub(crate) trait Capture: Send + Sync + 'static {
    async fn capture(&self, fps: f64, delivery: Arc<Delivery>, stop: CancellationToken) -> anyhow::Result<()>;

    /// Whether the source paces its own frames (ffmpeg's fps filter does, by their timestamps).
    fn paces_itself(&self) -> bool {
        false
    }
}

/// Every live source is a frame source: its capture runs beside `run`'s publishing loop.
#[async_trait]
impl<T: Capture + Clone> FrameSource for T {
    async fn run(
        &self,
        camera: &CameraConfig,
        pace: Pace,
        frames: Arc<dyn Producer<Frame>>,
        stop: CancellationToken,
    ) -> anyhow::Result<IngestStats> {
        run(camera, pace, Arc::new(self.clone()), frames, stop).await
    }
}

/// The frame waiting for the bus, at most one: a live camera never queues old frames.
#[derive(Default)]
struct Slot {
    waiting: Mutex<Option<(DateTime<Utc>, Vec<u8>)>>,
    ready: Notify,
}

/// Where a source hands its captured images: paces them to the fps and applies the drop policy.
pub(crate) struct Delivery {
    camera: CameraId,
    slot: Slot,
    policy: DropPolicy,
    min_interval: Duration,
    last_accepted: Mutex<Option<std::time::Instant>>,
    /// Whether the camera is up now, and whether a connection succeeded yet (the first one is
    /// not a reconnection).
    up: AtomicBool,
    connected_once: AtomicBool,
}

impl Delivery {
    /// Offers a captured image; returns false if it was not taken (throttled or dropped).
    pub(crate) fn offer(&self, image: Vec<u8>) -> bool {
        {
            let mut last = self.last_accepted.lock().unwrap_or_else(|p| p.into_inner());
            let now = std::time::Instant::now();
            if last.is_some_and(|at| now.duration_since(at) < self.min_interval) {
                FrameThrottled { camera: &self.camera }.emit();
                return false;
            }
            *last = Some(now);
        }
        let mut waiting = self.slot.waiting.lock().unwrap_or_else(|p| p.into_inner());
        if waiting.is_some() {
            FrameDropped { camera: &self.camera }.emit();
            if self.policy == DropPolicy::Newest {
                return false;
            }
        }
        *waiting = Some((Utc::now(), image));
        drop(waiting);
        self.slot.ready.notify_one();
        true
    }

    /// Marks the camera connected (after a failure: reconnected) or lost.
    pub(crate) fn set_up(&self, up: bool) {
        let was_up = self.up.swap(up, Ordering::Relaxed);
        if up && !was_up {
            let reconnected = self.connected_once.swap(true, Ordering::Relaxed);
            CameraUp {
                camera: &self.camera,
                reconnected,
            }
            .emit();
        }
        if !up && was_up {
            CameraDown {
                camera: &self.camera,
                error: "camera lost; retrying with backoff",
            }
            .emit();
        }
    }

    fn take(&self) -> Option<(DateTime<Utc>, Vec<u8>)> {
        self.slot.waiting.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

/// The backoff between reconnection attempts: from half a second to thirty seconds.
pub(crate) fn reconnect_backoff() -> Backoff {
    Backoff::new(Duration::from_millis(500), Duration::from_secs(30))
}

/// Runs a live camera until `stop` (or, for a video file, its end), publishing into `frames`.
pub(crate) async fn run(
    camera: &CameraConfig,
    Pace { fps, max_pixels }: Pace,
    capture: Arc<dyn Capture>,
    frames: Arc<dyn Producer<Frame>>,
    stop: CancellationToken,
) -> anyhow::Result<IngestStats> {
    CameraStarted {
        camera: &camera.id,
        up: false,
    }
    .emit();
    let capture_stop = stop.child_token();
    let (delivery, capture) = start_capture(camera, fps, capture, capture_stop.clone());
    let mut capture = Some(capture);
    let mut outlet = Outlet::new(frames);
    let mut last_seq = 0u64;
    let mut ended = false;
    loop {
        let Some((captured_at, image)) = delivery.take() else {
            if let Some(task) = capture.as_ref()
                && task.is_finished()
            {
                // The source ended (a video file): publish what is left, then stop.
                capture
                    .take()
                    .expect("checked")
                    .await
                    .context("camera task panicked")??;
                continue;
            }
            if capture.is_none() {
                // A capture also ends when told to stop; only one that ended by itself is done.
                ended = !stop.is_cancelled();
                break;
            }
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = delivery.slot.ready.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(200)) => {}
            }
            continue;
        };
        let (quality, max_side) = (camera.jpeg_quality, camera.max_side);
        let encoded = tokio::task::spawn_blocking(move || reencode(&image, quality, max_side, max_pixels)).await?;
        let data = match encoded {
            Ok(data) => data,
            Err(e) => {
                outlet.unreadable(&camera.id, "image", &e);
                continue;
            }
        };
        let captured_at = truncate_ms(captured_at);
        // Capture time in milliseconds as the sequence: unique across restarts of the ingestor,
        // so a restarted camera never reuses an earlier frame's (and event's) id.
        let seq = (captured_at.timestamp_millis().max(0) as u64).max(last_seq + 1);
        last_seq = seq;
        let frame = Frame {
            camera: camera.id.clone(),
            seq,
            captured_at,
            content_type: "image/jpeg".into(),
            data,
        };
        if !outlet.publish(frame, &stop).await? {
            break;
        }
    }
    if ended {
        let seq = (now_ms().timestamp_millis().max(0) as u64).max(last_seq + 1);
        outlet.end(&camera.id, seq, &stop).await?;
    }
    capture_stop.cancel();
    if let Some(task) = capture {
        task.await.context("camera task panicked")??;
    }
    tracing::info!(camera = %camera.id, frames = outlet.stats.frames, "camera stopped");
    Ok(outlet.stats)
}

/// The camera's delivery slot, and its capture loop running until `stop`.
fn start_capture(
    camera: &CameraConfig,
    fps: f64,
    capture: Arc<dyn Capture>,
    stop: CancellationToken,
) -> (Arc<Delivery>, JoinHandle<anyhow::Result<()>>) {
    let delivery = Arc::new(Delivery {
        camera: camera.id.clone(),
        slot: Slot::default(),
        policy: camera.drop,
        min_interval: if fps > 0.0 && !capture.paces_itself() {
            Duration::from_secs_f64(1.0 / fps)
        } else {
            Duration::ZERO
        },
        last_accepted: Mutex::new(None),
        up: AtomicBool::new(false),
        connected_once: AtomicBool::new(false),
    });
    let task = {
        let delivery = Arc::clone(&delivery);
        let span = tracing::info_span!("camera", camera = %camera.id);
        tokio::spawn(async move { capture.capture(fps, delivery, stop).await }.instrument(span))
    };
    (delivery, task)
}

/// The largest image, in bytes, a live camera may send (a 40-megapixel JPEG at high quality is
/// about 20 MB): a snapshot answer, or the bytes between two images of a stream, beyond it are
/// refused instead of growing a buffer without end.
pub(crate) const MAX_IMAGE_BYTES: usize = 32 << 20;

/// Decodes an image (any format the decoder takes, at most `max_pixels`), scales it to
/// `max_side` and encodes it as JPEG at `quality`.
pub fn reencode(image: &[u8], quality: u8, max_side: u32, max_pixels: u64) -> anyhow::Result<Vec<u8>> {
    let decoded = crate::vision::decode_image(image, max_pixels)?;
    let (w, h) = decoded.dimensions();
    let longest = w.max(h);
    let decoded = if longest > max_side && max_side > 0 {
        let scale = max_side as f64 / longest as f64;
        let (nw, nh) = (
            ((w as f64 * scale).round() as u32).max(1),
            ((h as f64 * scale).round() as u32).max(1),
        );
        image::imageops::resize(&decoded, nw, nh, image::imageops::FilterType::Triangle)
    } else {
        decoded
    };
    let mut out = Vec::with_capacity(image.len());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality.clamp(1, 100))
        .encode_image(&decoded)
        .context("encoding JPEG")?;
    Ok(out)
}

/// A stream went on for more than `MAX_IMAGE_BYTES` without completing an image.
#[derive(Debug, thiserror::Error)]
#[error("no complete JPEG in the last {MAX_IMAGE_BYTES} bytes of the stream")]
pub(crate) struct NoImageInStream;

/// Finds complete JPEGs (SOI … EOI) in a byte stream, leaving an incomplete tail in `buffer`;
/// a tail grown past `MAX_IMAGE_BYTES` is an error, so no stream can grow the buffer without end.
pub(crate) fn take_jpegs(buffer: &mut Vec<u8>) -> Result<Vec<Vec<u8>>, NoImageInStream> {
    let mut found = Vec::new();
    loop {
        let Some(start) = buffer.windows(2).position(|w| w == [0xFF, 0xD8]) else {
            // Keep a trailing 0xFF: it may begin the next SOI.
            let keep = usize::from(buffer.last() == Some(&0xFF));
            buffer.drain(..buffer.len() - keep);
            return Ok(found);
        };
        let Some(end) = buffer[start + 2..].windows(2).position(|w| w == [0xFF, 0xD9]) else {
            buffer.drain(..start);
            // Images found before the tail are delivered first; the next call reports the tail.
            if buffer.len() > MAX_IMAGE_BYTES && found.is_empty() {
                return Err(NoImageInStream);
            }
            return Ok(found);
        };
        let end = start + 2 + end + 2;
        found.push(buffer[start..end].to_vec());
        buffer.drain(..end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jpegs_are_cut_out_of_a_stream_across_chunk_boundaries() {
        let mut buffer = b"junk\xff\xd8one\xff\xd9\xff\xd8tw".to_vec();
        assert_eq!(take_jpegs(&mut buffer).unwrap(), vec![b"\xff\xd8one\xff\xd9".to_vec()]);
        buffer.extend_from_slice(b"o\xff");
        assert!(take_jpegs(&mut buffer).unwrap().is_empty());
        buffer.extend_from_slice(b"\xd9");
        assert_eq!(take_jpegs(&mut buffer).unwrap(), vec![b"\xff\xd8two\xff\xd9".to_vec()]);
        assert!(buffer.is_empty());
    }
}
