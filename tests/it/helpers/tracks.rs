//! Door-camera streams for track-mode tests: people from the shared photos passing a synthetic
//! camera, judged by a recognizer worker in track or frame mode.

use std::sync::Arc;

use chrono::TimeDelta;
use rollcall::bench::stream::people::sprite;
use rollcall::bench::stream::scene::{Pass, Sprite, background, render};
use rollcall::bus::{Consumer, MemoryConsumer, Producer, memory_topic};
use rollcall::domain::{AttendanceEvent, CameraId, Frame, UnknownFaceEvent};
use rollcall::recognize::{RecognizeOutputs, RecognizeWorker, SharedGallery, WorkerSettings};
use rollcall::vision::decode_image;
use tokio_util::sync::CancellationToken;

use super::{engine, face, start_time};

/// The person in `photo` as a head to paste into frames.
pub fn walker(photo: &str) -> Sprite {
    let mut engine = engine();
    let image = decode_image(&std::fs::read(face(photo)).unwrap(), u64::MAX).unwrap();
    let detection = engine
        .detect(&image)
        .unwrap()
        .into_iter()
        .max_by(|a, b| a.h.total_cmp(&b.h))
        .expect("a face in the photo");
    sprite(&image, &detection)
}

/// `frames` 640x480 JPEG frames of camera `camera` at 5 frames/s with `passes` of `people`.
pub fn door_stream(camera: &str, people: &[Sprite], passes: &[Pass], frames: u64) -> Vec<Frame> {
    let background = background(640, 480, 3);
    (0..frames)
        .map(|n| {
            let image = render(&background, people, passes, n, 11);
            let mut data = Vec::new();
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut data, 85)
                .encode_image(&image)
                .unwrap();
            Frame {
                camera: CameraId::parse(camera).unwrap(),
                seq: n,
                captured_at: start_time() + TimeDelta::milliseconds(n as i64 * 200),
                content_type: "image/jpeg".into(),
                data,
            }
        })
        .collect()
}

/// One worker judging `frames` to the end of the stream: the attendance and unknown-face events.
pub async fn judge(
    gallery: &SharedGallery,
    settings: WorkerSettings,
    frames: &[Frame],
) -> (Vec<AttendanceEvent>, Vec<UnknownFaceEvent>) {
    let n = frames.len();
    let (frames_tx, frames_rx) = memory_topic::<Frame>(1, n);
    let (events_tx, events_rx) = memory_topic::<AttendanceEvent>(1, n * 2);
    let (unknown_tx, unknown_rx) = memory_topic::<UnknownFaceEvent>(1, n * 2);
    let (dead_tx, _dead_rx) = memory_topic(1, n);
    let outputs = RecognizeOutputs {
        events: Arc::new(events_tx),
        unknown: Arc::new(unknown_tx),
        dead_letters: Arc::new(dead_tx),
    };
    let worker = RecognizeWorker::new(engine(), gallery.clone(), settings, outputs);
    for f in frames {
        frames_tx.send(f.camera.as_str(), f.clone()).await.unwrap();
    }
    drop(frames_tx);
    worker
        .run(Box::new(MemoryConsumer::new(frames_rx)), CancellationToken::new())
        .await
        .unwrap();
    (drain(events_rx).await, drain(unknown_rx).await)
}

async fn drain<T: Send + 'static>(receivers: Vec<tokio::sync::mpsc::Receiver<rollcall::bus::Record<T>>>) -> Vec<T> {
    let mut consumer = MemoryConsumer::new(receivers);
    let mut out = Vec::new();
    while let Some(record) = consumer.next().await {
        out.push(record.unwrap().value);
    }
    out
}
