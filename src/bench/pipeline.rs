//! `rollcall bench pipeline`: embedded pipeline throughput against the raw cost of detection + embedding.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use image::RgbImage;
use image::imageops::FilterType;

use super::median;
use super::step_time::{StepTime, median_time, step_seconds, time_line};
use crate::config::Config;
use crate::domain::PersonId;
use crate::enroll::{EnrolCriteria, template_from_photo};
use crate::eval::labelled_photos;
use crate::store::{NewTemplate, Store};
use crate::vision::{FaceEngine, decode_image};

/// Builds `count` 640x480 JPEG frames, each holding one face from `faces`, spread over
/// `cameras` camera folders under `root` (frames of one camera go to one worker, so a single
/// camera cannot show what several workers do).
pub fn make_frames(faces: &Path, root: &Path, count: usize, cameras: usize) -> anyhow::Result<usize> {
    let sources = frame_sources(faces)?;
    for i in 0..count {
        let dir = root.join(format!("bench-{}", i % cameras.max(1)));
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(format!("frame-{i:05}.jpg")), &sources[i % sources.len()])?;
    }
    Ok(sources.len())
}

/// One 640x480 JPEG frame per photo of `faces`, the photo fitted on a grey canvas.
pub(super) fn frame_sources(faces: &Path) -> anyhow::Result<Vec<Vec<u8>>> {
    let photos = labelled_photos(faces)?;
    anyhow::ensure!(!photos.is_empty(), "no photos under {}", faces.display());
    let mut sources = Vec::new();
    for (_, path) in &photos {
        let image = decode_image(&std::fs::read(path)?, 100_000_000)?;
        // Fit into 640x480 on a grey canvas: what a door camera frame looks like in size.
        let scale = (640.0 / image.width() as f32).min(480.0 / image.height() as f32);
        let (w, h) = (
            (image.width() as f32 * scale) as u32,
            (image.height() as f32 * scale) as u32,
        );
        let small = image::imageops::resize(&image, w.max(1), h.max(1), FilterType::Triangle);
        let mut canvas = RgbImage::from_pixel(640, 480, image::Rgb([96, 96, 96]));
        image::imageops::overlay(&mut canvas, &small, i64::from((640 - w) / 2), i64::from((480 - h) / 2));
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 85).encode_image(&canvas)?;
        sources.push(jpeg);
    }
    Ok(sources)
}

/// One template per person (their first photo), so that frames turn into attendance events.
pub(super) async fn enrol_first_photos(config: &Config, faces: &Path) -> anyhow::Result<usize> {
    let store = Store::open(&config.store.url, 1).await?;
    let engine_config = config.clone();
    let photos = labelled_photos(faces)?;
    let templates = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<(PersonId, NewTemplate)>> {
        let mut engine = FaceEngine::load(&engine_config)?;
        let criteria = EnrolCriteria::from_config(&engine_config.vision);
        let mut out: Vec<(PersonId, NewTemplate)> = Vec::new();
        for (label, path) in photos {
            let person = PersonId::from_name(label.rsplit('/').next().unwrap_or(&label))?;
            if out.iter().any(|(p, _)| *p == person) {
                continue;
            }
            if let Ok(t) = template_from_photo(&mut engine, &std::fs::read(&path)?, "bench", criteria) {
                out.push((person, t));
            }
        }
        Ok(out)
    })
    .await
    .context("enrolment panicked")??;
    for (person, template) in &templates {
        store
            .enrol(
                person,
                person.as_str(),
                &config.models.recognizer,
                std::slice::from_ref(template),
            )
            .await?;
    }
    Ok(templates.len())
}

/// Rounds of the raw figure and the two pipelines, in turns: the machine's speed swings by a
/// fifth from one second to the next, so each pipeline run is compared with the raw figures
/// measured just before and just after it, and the medians of the rounds are reported.
const ROUNDS: usize = 5;

/// What `rollcall bench pipeline` measured; rates are medians of the rounds, and every ratio the
/// median of the runs' ratios to the mean of the raw figures either side of each run.
#[derive(Debug, serde::Serialize)]
pub struct PipelineReport {
    pub frames: usize,
    pub cameras: usize,
    pub distinct_photos: usize,
    pub faces_found: usize,
    pub rounds: usize,
    /// Detect+align+embed on one thread, frames decoded beforehand (median of every raw measurement).
    pub raw_fps: f64,
    pub decode_ms_per_frame: f64,
    /// The same on two threads, an engine each: the machine's ceiling for two workers.
    pub raw_two_threads_fps: f64,
    /// Decode+detect+align+embed on two threads.
    pub raw_two_threads_with_decode_fps: f64,
    /// The embedded pipeline in frame mode (ingest, bus, recognizer, projector, SQLite), from
    /// the moment its engines are loaded, as the raw figures are (models loaded first).
    pub one_worker_fps: f64,
    pub two_workers_fps: f64,
    pub one_worker_ratio: f64,
    pub two_workers_ratio: f64,
    /// Each round's ratios, in order.
    pub one_worker_ratios: Vec<f64>,
    pub two_workers_ratios: Vec<f64>,
    /// Where each pipeline's time went: medians of the rounds, field by field.
    pub one_worker_time: StepTime,
    pub two_workers_time: StepTime,
    /// The same with the start of the run counted (store opened, models loaded).
    pub one_worker_fps_with_start: f64,
    pub two_workers_fps_with_start: f64,
    pub events_stored: u64,
}

pub async fn pipeline_benchmark(
    config: &Config,
    faces: &Path,
    count: usize,
    cameras: usize,
    json: bool,
) -> anyhow::Result<String> {
    let work = tempfile::tempdir()?;
    let cameras_root = work.path().join("cameras");
    let distinct = make_frames(faces, &cameras_root, count, cameras)?;
    let mut files = Vec::new();
    for camera in std::fs::read_dir(&cameras_root)? {
        files.extend(crate::ingest::list_frames(&camera?.path())?);
    }
    let frames: Vec<Vec<u8>> = files.iter().map(std::fs::read).collect::<Result<_, _>>()?;
    let t = Instant::now();
    let images: Vec<RgbImage> = frames
        .iter()
        .map(|b| decode_image(b, u64::MAX))
        .collect::<Result<_, _>>()?;
    let decode_secs = t.elapsed().as_secs_f64();
    let (images, frames) = (Arc::new(images), Arc::new(frames));

    // The ceilings, once: two threads with an engine each, without and with the decode.
    let (raw_config, raw_images, raw_frames) = (config.clone(), images.clone(), frames.clone());
    let (faces_found, raw2_fps, raw2_decode_fps) =
        tokio::task::spawn_blocking(move || -> anyhow::Result<(usize, f64, f64)> {
            let mut engine = FaceEngine::load(&raw_config)?;
            let mut found = 0;
            for image in raw_images.iter() {
                found += engine.analyze(image)?.len();
            }
            drop(engine);
            let two_threads = raw_parallel(&raw_config, &raw_images, 2)?;
            let two_with_decode = raw_parallel_with_decode(&raw_config, &raw_frames, 2)?;
            Ok((found, two_threads, two_with_decode))
        })
        .await
        .context("raw benchmark panicked")??;

    // Each round: raw, one worker, raw, two workers, raw. A pipeline run is compared with the
    // mean of the raw figures just before and just after it, so a drift of the machine's speed
    // during the round is shared by both sides of the ratio.
    let mut raw = Vec::new();
    let mut runs: [Vec<PipelineRun>; 2] = Default::default();
    let mut baselines: [Vec<f64>; 2] = Default::default();
    for round in 0..ROUNDS {
        let mut before = raw_one_thread(config, &images).await?;
        raw.push(before);
        for (i, workers) in [1, 2].into_iter().enumerate() {
            let db = work.path().join(format!("bench-{workers}-{round}.db"));
            runs[i].push(run_pipeline(config, faces, &cameras_root, &db, workers).await?);
            let after = raw_one_thread(config, &images).await?;
            raw.push(after);
            baselines[i].push((before + after) / 2.0);
            before = after;
        }
    }
    let [one, two] = runs;
    let ratios = |runs: &[PipelineRun], baselines: &[f64]| -> Vec<f64> {
        runs.iter().zip(baselines).map(|(r, raw)| r.fps / raw).collect()
    };
    let (one_worker_ratios, two_workers_ratios) = (ratios(&one, &baselines[0]), ratios(&two, &baselines[1]));
    let report = PipelineReport {
        frames: count,
        cameras,
        distinct_photos: distinct,
        faces_found,
        rounds: ROUNDS,
        raw_fps: median(raw.clone()),
        decode_ms_per_frame: decode_secs * 1000.0 / count as f64,
        raw_two_threads_fps: raw2_fps,
        raw_two_threads_with_decode_fps: raw2_decode_fps,
        one_worker_fps: median(one.iter().map(|r| r.fps).collect()),
        two_workers_fps: median(two.iter().map(|r| r.fps).collect()),
        one_worker_ratio: median(one_worker_ratios.clone()),
        two_workers_ratio: median(two_workers_ratios.clone()),
        one_worker_ratios,
        two_workers_ratios,
        one_worker_time: median_time(one.iter().map(|r| r.time)),
        two_workers_time: median_time(two.iter().map(|r| r.time)),
        one_worker_fps_with_start: median(one.iter().map(|r| r.fps_with_start).collect()),
        two_workers_fps_with_start: median(two.iter().map(|r| r.fps_with_start).collect()),
        events_stored: two.last().map_or(0, |r| r.events_stored),
    };
    if json {
        return Ok(serde_json::to_string(&report)?);
    }
    Ok(render(&report))
}

/// Detect+align+embed of the decoded frames on one thread: the baseline every ratio divides by.
async fn raw_one_thread(config: &Config, images: &Arc<Vec<RgbImage>>) -> anyhow::Result<f64> {
    let (config, images) = (config.clone(), images.clone());
    tokio::task::spawn_blocking(move || raw_parallel(&config, &images, 1))
        .await
        .context("raw benchmark panicked")?
}

struct PipelineRun {
    fps: f64,
    fps_with_start: f64,
    events_stored: u64,
    time: StepTime,
}

/// The embedded pipeline in frame mode with `workers` recognizers over the camera folders under
/// `cameras_root`, into a new SQLite store at `db`.
async fn run_pipeline(
    config: &Config,
    faces: &Path,
    cameras_root: &Path,
    db: &Path,
    workers: usize,
) -> anyhow::Result<PipelineRun> {
    let mut c = config.clone();
    c.recognize.workers = workers;
    // Every frame through detection and embedding: the per-frame path is what is measured.
    c.recognize.mode = crate::recognize::RecognizeMode::Frame;
    c.ingest.cameras_dir = cameras_root.to_owned();
    c.ingest.cameras.clear();
    c.ingest.fps = 0.0;
    c.store.url = format!("sqlite://{}?mode=rwc", db.display());
    enrol_first_photos(&c, faces).await?;
    let (inference_before, decode_before) = step_seconds();
    let t = Instant::now();
    let summary = crate::topology::run_embedded(&c, tokio_util::sync::CancellationToken::new()).await?;
    let secs = t.elapsed().as_secs_f64();
    let (inference_after, decode_after) = step_seconds();
    let ready = summary.recognizer_ready_after.map_or(0.0, |d| d.as_secs_f64());
    let frames = summary.ingest.frames as f64;
    let inference = inference_after - inference_before;
    Ok(PipelineRun {
        fps: frames / (secs - ready),
        fps_with_start: frames / secs,
        events_stored: summary.project.inserted,
        time: StepTime {
            inference_ms_per_frame: inference * 1000.0 / frames,
            decode_ms_per_frame: (decode_after - decode_before) * 1000.0 / frames,
            worker_busy: inference / (workers as f64 * (secs - ready)),
        },
    })
}

fn render(r: &PipelineReport) -> String {
    [
        format!(
            "frames: {} one-face 640x480 JPEGs made from {} photos, over {} cameras; faces found {}",
            r.frames, r.distinct_photos, r.cameras, r.faces_found
        ),
        format!(
            "{} rounds of raw, one worker, raw, two workers, raw; each run against the mean of the raw figures either side; medians",
            r.rounds
        ),
        format!(
            "raw detect+align+embed, 1 thread: {:.1} frames/s ({:.2} ms/frame; decode alone {:.2} ms/frame)",
            r.raw_fps,
            1000.0 / r.raw_fps,
            r.decode_ms_per_frame
        ),
        format!(
            "raw detect+align+embed, 2 threads: {:.1} frames/s ({:.2}x one thread: the machine's ceiling for two workers)",
            r.raw_two_threads_fps,
            r.raw_two_threads_fps / r.raw_fps
        ),
        format!(
            "raw decode+detect+align+embed, 2 threads: {:.1} frames/s ({:.2}x one thread without decode)",
            r.raw_two_threads_with_decode_fps,
            r.raw_two_threads_with_decode_fps / r.raw_fps
        ),
        format!(
            "embedded pipeline (frame mode), 1 worker: {:.1} frames/s once loaded ({:.1} with the start); ratio to raw: {:.2} (rounds {:.2?})",
            r.one_worker_fps, r.one_worker_fps_with_start, r.one_worker_ratio, r.one_worker_ratios
        ),
        format!(
            "embedded pipeline (frame mode), 2 workers: {:.1} frames/s once loaded ({:.1} with the start; {} events stored); ratio to raw: {:.2} (rounds {:.2?})",
            r.two_workers_fps, r.two_workers_fps_with_start, r.events_stored, r.two_workers_ratio, r.two_workers_ratios
        ),
        time_line("1 worker", &r.one_worker_time),
        time_line("2 workers", &r.two_workers_time),
    ]
    .join("\n")
}

/// Detect+align+embed of `images` split over `threads` threads, an engine each, loaded and
/// warmed up before the clock starts: what the machine gives parallel inference, whatever the
/// pipeline around it does.
fn raw_parallel(config: &Config, images: &[RgbImage], threads: usize) -> anyhow::Result<f64> {
    on_threads(config, images, threads, |engine, image| {
        Ok(engine.analyze(image).map(drop)?)
    })
}

/// `raw_parallel` from the JPEG bytes, decoded as the recognizer does: the machine's ceiling
/// for the whole per-frame work of two workers.
fn raw_parallel_with_decode(config: &Config, frames: &[Vec<u8>], threads: usize) -> anyhow::Result<f64> {
    on_threads(config, frames, threads, |engine, bytes| {
        engine.analyze_bytes(bytes).map(drop).map_err(Into::into)
    })
}

/// `work` on every item of `items`, split over `threads` threads with an engine each, loaded and
/// warmed up before the clock starts; items per second.
fn on_threads<T: Sync>(
    config: &Config,
    items: &[T],
    threads: usize,
    work: impl Fn(&mut FaceEngine, &T) -> anyhow::Result<()> + Sync,
) -> anyhow::Result<f64> {
    let mut engines = (0..threads)
        .map(|_| FaceEngine::load(config))
        .collect::<anyhow::Result<Vec<_>>>()?;
    for engine in &mut engines {
        work(engine, &items[0])?;
    }
    let t = Instant::now();
    std::thread::scope(|scope| {
        let running: Vec<_> = engines
            .iter_mut()
            .enumerate()
            .map(|(i, engine)| {
                let work = &work;
                scope.spawn(move || -> anyhow::Result<()> {
                    for item in items.iter().skip(i).step_by(threads) {
                        work(engine, item)?;
                    }
                    Ok(())
                })
            })
            .collect();
        running
            .into_iter()
            .try_for_each(|thread| thread.join().expect("a raw benchmark thread panicked"))
    })?;
    Ok(items.len() as f64 / t.elapsed().as_secs_f64())
}
