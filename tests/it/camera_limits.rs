//! What a live camera cannot do to the ingestor: send an image too large in bytes or in pixels
//! (refused, counted as unreadable, never published), or stall ffmpeg by talking a lot on stderr.

use std::io::Cursor;
use std::sync::Arc;
use std::time::Duration;

use rollcall::config::SourceConfig;
use rollcall::ingest::{FfmpegConfig, SnapshotConfig};

use crate::helpers::*;

/// A snapshot camera answering every request with `image`.
async fn snapshot_camera(image: Vec<u8>) -> (rollcall::config::CameraConfig, tokio::task::JoinHandle<()>) {
    let image = Arc::new(image);
    let app = axum::Router::new().route(
        "/snapshot",
        axum::routing::get(move || {
            let image = Arc::clone(&image);
            async move { image.as_ref().clone() }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/snapshot", listener.local_addr().unwrap());
    let server = serve(listener, app).await;
    (
        source_camera(SourceConfig::Snapshot(SnapshotConfig { url }), 5.0),
        server,
    )
}

/// A real photo as a JPEG carrying `padding` bytes of comment segments: a valid image, but big.
fn padded_jpeg(padding: usize) -> Vec<u8> {
    let photo = photo("face_recognition/obama/obama.jpg");
    let mut out = photo[..2].to_vec();
    let mut left = padding;
    while left > 0 {
        let len = left.min(65_533);
        out.extend_from_slice(&[0xFF, 0xFE]);
        out.extend_from_slice(&((len + 2) as u16).to_be_bytes());
        out.extend(std::iter::repeat_n(b' ', len));
        left -= len;
    }
    out.extend_from_slice(&photo[2..]);
    out
}

/// The camera's published frames after `wait`, and its unreadable count.
async fn published_within(camera: &rollcall::config::CameraConfig, wait: Duration) -> (usize, u64) {
    let running = start_camera(camera);
    tokio::time::sleep(wait).await;
    running.stop_and_count().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_too_large_in_bytes_or_pixels_are_refused() {
    // The same photo decodes with 2 MB of comments: the padding alone makes no image unreadable.
    let (camera, _server) = snapshot_camera(padded_jpeg(2 << 20)).await;
    let (frames, unreadable) = published_within(&camera, Duration::from_secs(2)).await;
    assert!(
        frames >= 1 && unreadable == 0,
        "{frames} frames, {unreadable} unreadable"
    );

    // 40 MB is over the 32 MB an image may have: never read to the end, never published.
    let (camera, _server) = snapshot_camera(padded_jpeg(40 << 20)).await;
    let (frames, _) = published_within(&camera, Duration::from_secs(3)).await;
    assert_eq!(frames, 0, "an oversized answer is not an image");
    let up = rollcall::metrics::metrics()
        .ingest_camera_up
        .with_label_values(&[camera.id.as_str()])
        .get();
    assert_eq!(up, 0, "the camera counts as down");

    // 48 megapixels is over `vision.max_pixels` (40 million by default): unreadable, not published.
    let big = image::RgbImage::from_pixel(8000, 6000, image::Rgb([90, 90, 90]));
    let mut png = Vec::new();
    image::DynamicImage::ImageRgb8(big)
        .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let (camera, _server) = snapshot_camera(png).await;
    let (frames, unreadable) = published_within(&camera, Duration::from_secs(3)).await;
    assert_eq!(frames, 0);
    assert!(unreadable >= 1, "the frame is counted as unreadable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ffmpeg_talking_at_length_on_stderr_does_not_stall_its_camera() {
    let work = tempfile::tempdir().unwrap();
    let video = work.path().join("door.avi");
    make_video(&video, &[("face_recognition/obama/obama.jpg", 3)]);
    // At trace level ffmpeg writes far more than a pipe holds (64 KB) long before the video ends:
    // unread, it would block on its stderr and stop sending frames.
    let camera = source_camera(
        SourceConfig::Ffmpeg(FfmpegConfig {
            url: video.display().to_string(),
            ffmpeg_input_options: vec!["-loglevel".into(), "trace".into()],
        }),
        5.0,
    );
    let mut running = start_camera(&camera);
    let rest = running.rest(Duration::from_secs(30)).await;
    let images = rest.iter().filter(|f| !f.is_end_of_stream()).count();
    assert!((12..=16).contains(&images), "{images} frames of 3 s at 5 frames/s");
    assert!(rest.last().unwrap().is_end_of_stream());
}
