//! `rollcall bench stream`: door-camera streams synthesised from real photos, judged by a
//! recognizer worker in frame mode and in track mode on the same frames, in one run: frames/s,
//! CPU per frame, and attendance against the ground truth.

pub mod people;
pub mod scene;
mod score;

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

use crate::config::Config;
use crate::domain::{AttendanceEvent, CameraId, Frame, UnknownFaceEvent};
use crate::recognize::{RecognizeMode, RecognizeWorker, SharedGallery, WorkerSettings, offline};
use crate::vision::FaceEngine;
use people::Person;
use scene::{Pass, Rng};
use score::{Score, Truth};

/// One synthesised camera: its size, frame rate and what passed it.
struct Camera {
    id: CameraId,
    passes: Vec<Pass>,
    frames: u64,
    occupied: u64,
}

/// The figures of one mode.
#[derive(Debug, Clone, Serialize)]
pub struct ModeFigures {
    pub frames_per_s: f64,
    pub cpu_ms_per_frame: f64,
    /// Cameras at 5 frames/s one core keeps up with.
    pub cameras_per_core: f64,
    #[serde(flatten)]
    pub score: Score,
}

#[derive(Debug, Clone, Serialize)]
pub struct StreamReport {
    pub faces: String,
    pub frames: usize,
    pub occupied_share: f64,
    pub enrolled_people: usize,
    pub strangers: usize,
    /// Track-mode frames/s over frame-mode frames/s.
    pub speedup: f64,
    pub frame: ModeFigures,
    pub track: ModeFigures,
    pub missed: usize,
    pub extra: usize,
    pub wrong_person: usize,
    pub stranger_attendance: usize,
}

/// The cameras of the benchmark: (id, width, height, frames/s).
const CAMERAS: [(&str, u32, u32, u32); 2] = [("door-640", 640, 480, 10), ("hall-720", 1280, 720, 5)];

pub async fn stream_benchmark(config: &Config, faces: &Path, json: bool) -> anyhow::Result<String> {
    let engine_config = config.clone();
    let faces_dir = faces.to_path_buf();
    let (people, cameras, frames) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let mut engine = FaceEngine::load(&engine_config)?;
        let people = people::prepare(&mut engine, &faces_dir)?;
        let (cameras, frames) = synthesise(&people)?;
        Ok((people, cameras, frames))
    })
    .await
    .context("synthesis panicked")??;
    let gallery = SharedGallery::new(people::gallery(&people));
    let frame = run_mode(config, RecognizeMode::Frame, &gallery, &frames).await?;
    let track = run_mode(config, RecognizeMode::Track, &gallery, &frames).await?;
    let labels: Vec<String> = people.iter().map(|p| p.id.as_str().to_owned()).collect();
    let enrolled: Vec<bool> = people.iter().map(|p| p.template.is_some()).collect();
    let figures = |run: &ModeRun| {
        let mut score = Score::default();
        for camera in &cameras {
            let truth = Truth {
                camera: camera.id.as_str(),
                passes: &camera.passes,
                labels: &labels,
                enrolled: &enrolled,
            };
            score.add(&Score::of(&truth, &run.events, &run.unknown));
        }
        let cpu_ms = run.cpu_secs * 1000.0 / frames.len() as f64;
        ModeFigures {
            frames_per_s: frames.len() as f64 / run.secs,
            cpu_ms_per_frame: cpu_ms,
            cameras_per_core: 1000.0 / cpu_ms / 5.0,
            score,
        }
    };
    let (frame, track) = (figures(&frame), figures(&track));
    let total: u64 = cameras.iter().map(|c| c.frames).sum();
    let report = StreamReport {
        faces: faces.display().to_string(),
        frames: frames.len(),
        occupied_share: cameras.iter().map(|c| c.occupied).sum::<u64>() as f64 / total as f64,
        enrolled_people: enrolled.iter().filter(|e| **e).count(),
        strangers: enrolled.iter().filter(|e| !**e).count(),
        speedup: track.frames_per_s / frame.frames_per_s,
        missed: track.score.missed,
        extra: track.score.extra,
        wrong_person: track.score.wrong_person,
        stranger_attendance: track.score.stranger_attendance,
        frame,
        track,
    };
    if json {
        return Ok(serde_json::to_string(&report)?);
    }
    Ok(render(&report))
}

fn render(r: &StreamReport) -> String {
    let mode = |name: &str, m: &ModeFigures| {
        let s = &m.score;
        format!(
            "{name}: {:.1} frames/s, {:.2} CPU ms/frame, {:.1} cameras/core at 5 frames/s; missed {}, extra {}, wrong person {}, stranger attendance {}; unknown events in stranger passes {} ({} of {} passes with exactly one), in enrolled passes {}",
            m.frames_per_s,
            m.cpu_ms_per_frame,
            m.cameras_per_core,
            s.missed,
            s.extra,
            s.wrong_person,
            s.stranger_attendance,
            s.unknown_events_in_stranger_passes,
            s.stranger_passes_with_one_unknown,
            s.stranger_passes,
            s.unknown_events_in_enrolled_passes
        )
    };
    [
        format!(
            "streams: {} frames from {} ({} enrolled people, {} strangers; people in {:.0} % of the frames; {} enrolled passes)",
            r.frames,
            r.faces,
            r.enrolled_people,
            r.strangers,
            r.occupied_share * 100.0,
            r.track.score.enrolled_passes
        ),
        mode("frame mode", &r.frame),
        mode("track mode", &r.track),
        format!("speedup (track over frame frames/s): {:.2}x", r.speedup),
    ]
    .join("\n")
}

/// Every camera's frames as JPEGs, in capture order across cameras.
fn synthesise(people: &[Person]) -> anyhow::Result<(Vec<Camera>, Vec<Frame>)> {
    let start: DateTime<Utc> = "2026-11-30T08:00:00Z".parse()?;
    let sprites: Vec<_> = people.iter().map(|p| p.sprite.clone()).collect();
    let (mut cameras, mut frames) = (Vec::new(), Vec::new());
    for (i, (id, width, height, fps)) in CAMERAS.into_iter().enumerate() {
        let mut rng = Rng(0x5eed_0000 + i as u64);
        let (passes, length) = scene::timeline(people.len(), fps, &mut rng);
        let background = scene::background(width, height, i as u64 + 7);
        let id = CameraId::parse(id)?;
        let mut occupied = 0;
        for n in 0..length {
            let image = scene::render(&background, &sprites, &passes, n, i as u64 + 99);
            occupied += u64::from(passes.iter().any(|p| (p.first..=p.last).contains(&n)));
            let mut data = Vec::new();
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut data, 85).encode_image(&image)?;
            frames.push(Frame {
                camera: id.clone(),
                seq: n,
                captured_at: start + TimeDelta::milliseconds((n * 1000 / u64::from(fps)) as i64),
                content_type: "image/jpeg".into(),
                data,
            });
        }
        cameras.push(Camera {
            id,
            passes,
            frames: length,
            occupied,
        });
    }
    frames.sort_by(|a, b| a.captured_at.cmp(&b.captured_at).then_with(|| a.camera.cmp(&b.camera)));
    Ok((cameras, frames))
}

struct ModeRun {
    secs: f64,
    cpu_secs: f64,
    events: Vec<AttendanceEvent>,
    unknown: Vec<UnknownFaceEvent>,
}

/// One worker (one core) judging every frame in `mode`, with the engine loaded and warmed up
/// before the clock starts.
async fn run_mode(
    config: &Config,
    mode: RecognizeMode,
    gallery: &SharedGallery,
    frames: &[Frame],
) -> anyhow::Result<ModeRun> {
    let engine_config = config.clone();
    let warm = frames[0].data.clone();
    let engine = tokio::task::spawn_blocking(move || -> anyhow::Result<FaceEngine> {
        let mut engine = FaceEngine::load(&engine_config)?;
        engine.analyze_bytes(&warm)?;
        Ok(engine)
    })
    .await
    .context("loading the engine panicked")??;
    let (outputs, outbox) = offline::in_memory_outputs(frames.len() * 2);
    let settings = WorkerSettings {
        threshold: config.matching.threshold,
        cooldown: TimeDelta::seconds(config.recognize.cooldown_secs as i64),
        mode,
        track: config.recognize.track.clone(),
        review_margin: config.review.match_margin,
    };
    let worker = RecognizeWorker::new(engine, gallery.clone(), settings, outputs);
    let mut clock = None;
    let stats = offline::run_over(worker, frames, || clock = Some((Instant::now(), process_cpu_secs()))).await?;
    let (started, cpu) = clock.expect("the worker started");
    let (secs, cpu_secs) = (started.elapsed().as_secs_f64(), process_cpu_secs() - cpu);
    anyhow::ensure!(
        stats.frames as usize == frames.len(),
        "the worker judged {} of {} frames",
        stats.frames,
        frames.len()
    );
    let (events, unknown) = outbox.drain().await;
    Ok(ModeRun {
        secs,
        cpu_secs,
        events,
        unknown,
    })
}

/// CPU seconds this process has used (user and system), from `/proc/self/stat`.
fn process_cpu_secs() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name (which may hold spaces) start at the state, field 3.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15, in clock ticks of 1/100 s on Linux.
    (ticks(11) + ticks(12)) / 100.0
}
