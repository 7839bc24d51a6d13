//! Cameras for the ingest tests: camera configurations, a camera's ingest running in this process
//! with the frames it publishes, the checks every frame must pass, and fake camera servers.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rollcall::bus::{Consumer, MemoryConsumer, memory_topic};
use rollcall::config::{CameraConfig, SourceConfig};
use rollcall::domain::{CameraId, CameraRole, Frame};
use tokio_util::sync::CancellationToken;

use super::{face, link};

/// A live camera reading `source`, with an id of its own (metrics are process-wide).
pub fn source_camera(source: SourceConfig, fps: f64) -> CameraConfig {
    // Metrics are process-wide: each test's camera has an id of its own.
    let id = format!("{}-{}", source.kind(), &uuid::Uuid::new_v4().simple().to_string()[..8]);
    CameraConfig {
        fps: Some(fps),
        max_side: 480,
        jpeg_quality: 80,
        ..CameraConfig::new(CameraId::parse(&id).unwrap(), source)
    }
}

/// An entry camera folder `id` in `work` holding one photo.
pub fn folder_camera(work: &Path, id: &str, photo: &str) -> CameraConfig {
    let path = work.join("cameras").join(id);
    link(&face(photo), &path, "1.jpg");
    CameraConfig {
        role: CameraRole::Entry,
        ..CameraConfig::folder(CameraId::parse(id).unwrap(), path)
    }
}

/// A running camera and the frames it has published so far.
pub struct Running {
    pub frames: MemoryConsumer<Frame>,
    stop: CancellationToken,
    pub task: tokio::task::JoinHandle<anyhow::Result<rollcall::ingest::IngestStats>>,
}

/// Starts ingesting `camera` in this process, into a memory topic.
pub fn start_camera(camera: &CameraConfig) -> Running {
    let (tx, rx) = memory_topic::<Frame>(1, 256);
    let stop = CancellationToken::new();
    let (camera, token) = (camera.clone(), stop.clone());
    let task = tokio::spawn(async move {
        let max_pixels = rollcall::config::Config::default().vision.max_pixels;
        rollcall::ingest::run_cameras(std::slice::from_ref(&camera), 0.0, max_pixels, Arc::new(tx), token).await
    });
    Running {
        frames: MemoryConsumer::new(rx),
        stop,
        task,
    }
}

impl Running {
    /// The next `n` frames, within `within`.
    pub async fn take(&mut self, n: usize, within: Duration) -> Vec<Frame> {
        let mut frames = Vec::new();
        let deadline = tokio::time::Instant::now() + within;
        while frames.len() < n {
            match tokio::time::timeout_at(deadline, self.frames.next()).await {
                Ok(Some(Ok(record))) => frames.push(record.value),
                other => panic!("{} of {n} frames, then {:?}", frames.len(), other.map(|o| o.is_some())),
            }
        }
        frames
    }

    /// Every record still to come, once the camera has ended by itself.
    pub async fn rest(&mut self, within: Duration) -> Vec<Frame> {
        let mut rest = Vec::new();
        loop {
            match tokio::time::timeout(within, self.frames.next()).await {
                Ok(Some(Ok(record))) => rest.push(record.value),
                Ok(None) => return rest,
                other => panic!("the camera did not end: {:?}", other.map(|o| o.is_some())),
            }
        }
    }

    /// Discards the frames already published.
    pub async fn drain(&mut self) {
        while let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(200), self.frames.next()).await {}
    }

    /// Stops the camera: how many frames it had published, and how many images it found unreadable.
    pub async fn stop_and_count(mut self) -> (usize, u64) {
        let mut frames = 0;
        while let Ok(Some(Ok(record))) = tokio::time::timeout(Duration::from_millis(200), self.frames.next()).await {
            frames += usize::from(!record.value.is_end_of_stream());
        }
        let stats = self.stop().await;
        (frames, stats.unreadable)
    }

    pub async fn stop(self) -> rollcall::ingest::IngestStats {
        self.stop.cancel();
        self.task.await.unwrap().unwrap()
    }
}

/// Frames are JPEGs no larger than the camera's maximum, in capture order.
pub fn check_frames(frames: &[Frame], camera: &CameraConfig) {
    for pair in frames.windows(2) {
        assert!(pair[0].seq < pair[1].seq && pair[0].captured_at <= pair[1].captured_at);
    }
    for frame in frames {
        assert_eq!(frame.content_type, "image/jpeg");
        assert_eq!(&frame.data[..2], &[0xFF, 0xD8]);
        let image = rollcall::vision::decode_image(&frame.data, 40_000_000).unwrap();
        assert!(
            image.width().max(image.height()) <= camera.max_side,
            "{:?}",
            image.dimensions()
        );
        assert_eq!(frame.camera, camera.id);
    }
}

/// Serves `app` on `listener` until the task is aborted.
pub async fn serve(listener: tokio::net::TcpListener, app: axum::Router) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    })
}

/// An MJPEG stream of `photo`, a part every 50 ms, while `on` holds.
pub fn mjpeg_app(photo: Vec<u8>, on: Arc<AtomicBool>) -> axum::Router {
    let photo = axum::body::Bytes::from(photo);
    axum::Router::new().route(
        "/stream",
        axum::routing::get(move || {
            let (photo, on) = (photo.clone(), Arc::clone(&on));
            async move {
                let parts = futures::stream::unfold(photo, move |photo| {
                    let on = Arc::clone(&on);
                    async move {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        if !on.load(Ordering::SeqCst) {
                            return None;
                        }
                        let head = format!(
                            "--frame\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n",
                            photo.len()
                        );
                        let part = [head.as_bytes(), &photo, b"\r\n"].concat();
                        Some((Ok::<_, std::io::Error>(axum::body::Bytes::from(part)), photo))
                    }
                });
                (
                    [(
                        axum::http::header::CONTENT_TYPE,
                        "multipart/x-mixed-replace; boundary=frame",
                    )],
                    axum::body::Body::from_stream(parts),
                )
            }
        }),
    )
}
