//! Camera frames for the recognizer: frames of the shared photos at known times, and a stream of
//! scenes from several cameras published to Kafka.

use rollcall::bus::Bus;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use rollcall::bus::kafka::KafkaBus;
use rollcall::config::Config;
use rollcall::domain::{CameraId, Frame};

use super::{face, small_jpeg};

pub fn start_time() -> DateTime<Utc> {
    "2026-11-20T07:55:00Z".parse().unwrap()
}

/// Frame `seq` of `camera` showing `photo`, taken `seq` seconds after the start.
pub fn frame(camera: &str, seq: u64, photo: &[u8]) -> Frame {
    Frame {
        camera: CameraId::parse(camera).unwrap(),
        seq,
        captured_at: start_time() + TimeDelta::seconds(seq as i64),
        content_type: "image/jpeg".into(),
        data: photo.to_vec(),
    }
}

/// A frame of `camera` captured at `captured_at` showing the photo `photo`, numbered by its time.
pub fn frame_at(camera: &str, captured_at: DateTime<Utc>, photo: &str) -> Frame {
    Frame {
        camera: CameraId::parse(camera).unwrap(),
        seq: captured_at.timestamp_millis() as u64,
        captured_at,
        content_type: "image/jpeg".into(),
        data: std::fs::read(face(photo)).unwrap(),
    }
}

/// The cameras of the streamed scenes, and how many frames each publishes.
pub const CAMERAS: [&str; 3] = ["door", "gate", "hall"];
pub const FRAMES_PER_CAMERA: u64 = 60;

/// Each camera shows scenes in turn, each for a few frames: people arrive, stay, leave, come back.
fn scene_photos() -> Vec<Vec<u8>> {
    [
        "face_recognition/obama/test_obama1.jpg",
        "multi/kit_with_rose.jpg",
        "face_recognition/kit_harington/john2.jpeg",
        "openface/clapton/clapton-2.jpg",
        "multi/obama-480p.jpg",
        "face_recognition/biden/biden2.jpg",
        "face_recognition/rose_leslie/img2.jpg",
    ]
    .iter()
    .map(|p| small_jpeg(&face(p)))
    .collect()
}

/// Publishes every camera's frames, one round of cameras every 250 ms, then their ends of stream.
pub async fn stream_frames(config: Config) {
    let producer = KafkaBus::new(&config.kafka).frames_producer().unwrap();
    let scenes = scene_photos();
    // Even if every camera hashed to one partition, the mock would keep every frame.
    let average = scenes.iter().map(Vec::len).sum::<usize>() / scenes.len();
    let total = average as u64 * FRAMES_PER_CAMERA * CAMERAS.len() as u64;
    assert!(
        total < 4_500_000,
        "{total} bytes of frames would outgrow the mock's partitions"
    );
    let mut pace = tokio::time::interval(Duration::from_millis(250));
    for seq in 0..FRAMES_PER_CAMERA {
        pace.tick().await;
        for (k, camera) in CAMERAS.iter().enumerate() {
            let run = 3 + k as u64;
            let scene = (seq / run + k as u64) as usize % scenes.len();
            producer.send(camera, frame(camera, seq, &scenes[scene])).await.unwrap();
        }
    }
    // Each camera's stream ends, as a replayed folder's does: its open tracks are decided.
    for camera in CAMERAS {
        let end = Frame::end_of_stream(
            CameraId::parse(camera).unwrap(),
            FRAMES_PER_CAMERA,
            start_time() + TimeDelta::seconds(FRAMES_PER_CAMERA as i64),
        );
        producer.send(camera, end).await.unwrap();
    }
}
