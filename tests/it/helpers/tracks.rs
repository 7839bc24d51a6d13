//! Door-camera streams for track-mode tests: people from the shared photos passing a synthetic
//! camera, judged by a recognizer worker in track or frame mode.

use chrono::TimeDelta;
use rollcall::bench::stream::people::sprite;
use rollcall::bench::stream::scene::{Pass, Path, Sprite, background, render};
use rollcall::domain::{AttendanceEvent, CameraId, Frame, UnknownFaceEvent};
use rollcall::recognize::{RecognizeMode, RecognizeWorker, SharedGallery, TrackConfig, WorkerSettings, offline};
use rollcall::vision::decode_image;

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
    let (outputs, outbox) = offline::in_memory_outputs(frames.len() * 2);
    let worker = RecognizeWorker::new(engine(), gallery.clone(), settings, outputs);
    offline::run_over(worker, frames, || ()).await.unwrap();
    outbox.drain().await
}

/// Track mode at the default threshold and a minute's cooldown, with `track`.
pub fn track_settings(track: TrackConfig) -> WorkerSettings {
    WorkerSettings {
        threshold: 0.55,
        cooldown: TimeDelta::seconds(60),
        mode: RecognizeMode::Track,
        track,
        // No match goes to review unless a test asks for it.
        review_margin: 0.0,
    }
}

/// Person `person` of a stream's people walking `path` from frame `first` to `last`, in `lane`.
pub fn pass(person: usize, first: u64, last: u64, path: Path, lane: f32) -> Pass {
    Pass {
        person,
        first,
        last,
        path,
        lane,
    }
}
