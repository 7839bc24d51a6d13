//! `rollcall bench soak`: the Kafka pipeline (librdkafka's mock cluster, in this process) into
//! PostgreSQL and Redis at a steady frame rate for a given time: resident memory over time,
//! consumer lag, errors, and the latency from a frame's capture to its stored attendance row.
//! It works in a database of its own (created and dropped) and Redis database 15.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use sea_orm::{ConnectionTrait, Statement};
use tokio_util::sync::CancellationToken;

use super::scratch::{ScratchDatabase, scratch_redis};
use crate::bus::{Bus, BusKind};
use crate::config::Config;
use crate::domain::{CameraId, Frame};
use crate::recognize::RecognizeMode;
use crate::store::Store;

/// The soak's settings.
#[derive(Debug, Clone)]
pub struct SoakPlan {
    pub minutes: f64,
    /// Frames per second per camera.
    pub fps: f64,
    pub cameras: usize,
    /// Seconds between two samples of memory, lag and stored rows.
    pub sample_secs: u64,
}

#[derive(Debug, serde::Serialize)]
pub struct Sample {
    pub at_secs: f64,
    pub rss_mb: f64,
    /// Frames published and not yet taken by the recognizer.
    pub lag_frames: u64,
    pub rows_stored: u64,
}

#[derive(Debug, serde::Serialize)]
pub struct SoakReport {
    pub minutes: f64,
    pub cameras: usize,
    pub fps_per_camera: f64,
    pub frames_published: u64,
    pub events_stored: u64,
    /// Resident memory right after the warm-up (the first fifth of the run, at least a minute)
    /// and at the end (means of the samples around each point).
    pub rss_after_warmup_mb: f64,
    pub rss_end_mb: f64,
    pub rss_growth_after_warmup_pct: f64,
    pub lag_max_frames: u64,
    pub lag_end_frames: u64,
    /// From a frame's capture to its attendance row's commit, over the events after the warm-up.
    pub latency_p50_ms: f64,
    pub latency_p99_ms: f64,
    /// Dead letters plus failed stages: 0 in a healthy run.
    pub errors: u64,
    pub samples: Vec<Sample>,
}

pub async fn soak_benchmark(config: &Config, faces: &Path, plan: SoakPlan, json: bool) -> anyhow::Result<String> {
    let database = ScratchDatabase::create(&config.store.url, "soak").await?;
    anyhow::ensure!(
        database.is_postgres(),
        "the soak measures PostgreSQL: set store.url to a postgres:// URL"
    );
    let outcome = soak(config, faces, &plan, &database.url).await;
    database.drop_now().await?;
    let report = outcome?;
    if json {
        return Ok(serde_json::to_string(&report)?);
    }
    Ok(format!(
        "soak: {:.0} min, {} cameras at {} frames/s: {} frames, {} events stored\n\
         memory: {:.1} MB after warm-up, {:.1} MB at the end ({:+.2} %)\n\
         lag: at most {} frames, {} at the end; latency frame to row p50 {:.0} ms, p99 {:.0} ms; errors {}",
        report.minutes,
        report.cameras,
        report.fps_per_camera,
        report.frames_published,
        report.events_stored,
        report.rss_after_warmup_mb,
        report.rss_end_mb,
        report.rss_growth_after_warmup_pct,
        report.lag_max_frames,
        report.lag_end_frames,
        report.latency_p50_ms,
        report.latency_p99_ms,
        report.errors
    ))
}

async fn soak(config: &Config, faces: &Path, plan: &SoakPlan, database_url: &str) -> anyhow::Result<SoakReport> {
    let mock = rdkafka::mocking::MockCluster::new(3).context("starting librdkafka's mock cluster")?;
    let mut config = config.clone();
    config.store.url = database_url.to_owned();
    config.redis.url = config.redis.url.as_deref().map(scratch_redis);
    config.nats.url = None;
    config.bus.kind = BusKind::Kafka;
    config.kafka.brokers = mock.bootstrap_servers();
    // Every frame judged alone and every sighting an event: a row per frame to time.
    config.recognize.mode = RecognizeMode::Frame;
    config.recognize.cooldown_secs = 0;
    config.recognize.workers = 1;
    let t = &config.kafka.topics;
    for topic in [&t.frames, &t.attendance, &t.unknown, &t.frames_dlq, &t.attendance_dlq] {
        mock.create_topic(topic, 3, 1).context("creating the soak's topics")?;
    }
    let store = Store::open(database_url, 2).await?;
    super::pipeline::enrol_first_photos(&config, faces).await?;
    let photos = super::pipeline::frame_sources(faces)?;

    let stop = CancellationToken::new();
    let recognizer = tokio::spawn({
        let (config, stop) = (config.clone(), stop.clone());
        async move { crate::topology::recognize(&config, stop).await }
    });
    let projector = tokio::spawn({
        let (config, stop) = (config.clone(), stop.clone());
        async move { crate::topology::project(&config, stop).await }
    });
    let producer = crate::bus::kafka::KafkaBus::new(&config.kafka).frames_producer()?;
    let cameras: Vec<CameraId> = (0..plan.cameras)
        .map(|i| CameraId::parse(format!("soak-{i}")))
        .collect::<Result<_, _>>()?;

    let started = Instant::now();
    let soak_start = Utc::now();
    let duration = Duration::from_secs_f64(plan.minutes * 60.0);
    let mut pace = tokio::time::interval(Duration::from_secs_f64(1.0 / plan.fps));
    let mut next_sample = Duration::ZERO;
    let (mut seq, mut published, mut samples) = (0u64, 0u64, Vec::new());
    let frames_recognized = || -> u64 {
        let metric = &crate::metrics::metrics().recognize_frames;
        cameras
            .iter()
            .map(|c| metric.with_label_values(&[c.as_str()]).get())
            .sum()
    };
    while started.elapsed() < duration {
        pace.tick().await;
        let captured_at = crate::ingest::truncate_ms(Utc::now());
        for (i, camera) in cameras.iter().enumerate() {
            let frame = Frame {
                camera: camera.clone(),
                seq,
                captured_at,
                content_type: "image/jpeg".into(),
                data: photos[(seq as usize + i) % photos.len()].clone(),
            };
            producer.send(camera.as_str(), frame).await?;
            published += 1;
        }
        seq += 1;
        if started.elapsed() >= next_sample {
            samples.push(Sample {
                at_secs: started.elapsed().as_secs_f64(),
                rss_mb: resident_mb(),
                lag_frames: published.saturating_sub(frames_recognized()),
                rows_stored: count(&store, "SELECT count(*) FROM attendance_events").await?,
            });
            next_sample += Duration::from_secs(plan.sample_secs);
        }
        anyhow::ensure!(
            !recognizer.is_finished() && !projector.is_finished(),
            "a stage stopped during the soak"
        );
    }
    // Let the last frames through before stopping.
    let drained = Instant::now();
    while frames_recognized() < published && drained.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.cancel();
    let stage_failures = u64::from(recognizer.await?.is_err()) + u64::from(projector.await?.is_err());
    let dead_letters = dead_letters_counted();
    let warmup_end = soak_start + chrono::TimeDelta::seconds(warmup_secs(plan) as i64);
    let (p50, p99) = latencies(&store, warmup_end).await?;
    let events_stored = count(&store, "SELECT count(*) FROM attendance_events").await?;
    Ok(summarise(
        plan,
        samples,
        published,
        events_stored,
        (p50, p99),
        stage_failures + dead_letters,
    ))
}

fn summarise(
    plan: &SoakPlan,
    samples: Vec<Sample>,
    published: u64,
    events_stored: u64,
    (p50, p99): (f64, f64),
    errors: u64,
) -> SoakReport {
    let total = plan.minutes * 60.0;
    let warmup = warmup_secs(plan);
    let mean = |picked: Vec<f64>| picked.iter().sum::<f64>() / picked.len().max(1) as f64;
    let window = (total / 10.0).max(plan.sample_secs as f64);
    let after_warmup = mean(
        samples
            .iter()
            .filter(|s| s.at_secs >= warmup && s.at_secs < warmup + window)
            .map(|s| s.rss_mb)
            .collect(),
    );
    let end = mean(
        samples
            .iter()
            .filter(|s| s.at_secs >= total - window)
            .map(|s| s.rss_mb)
            .collect(),
    );
    SoakReport {
        minutes: plan.minutes,
        cameras: plan.cameras,
        fps_per_camera: plan.fps,
        frames_published: published,
        events_stored,
        rss_after_warmup_mb: after_warmup,
        rss_end_mb: end,
        rss_growth_after_warmup_pct: (end - after_warmup) / after_warmup.max(f64::MIN_POSITIVE) * 100.0,
        lag_max_frames: samples.iter().map(|s| s.lag_frames).max().unwrap_or(0),
        lag_end_frames: samples.last().map_or(0, |s| s.lag_frames),
        latency_p50_ms: p50,
        latency_p99_ms: p99,
        errors,
        samples,
    }
}

/// The warm-up: the first fifth of the run, at least a minute, at most half of it. Memory
/// growth and latency are measured after it (the consumer groups form, caches fill).
fn warmup_secs(plan: &SoakPlan) -> f64 {
    let total = plan.minutes * 60.0;
    (total / 5.0).max(60.0).min(total / 2.0)
}

/// Resident memory of this process, from /proc (Linux).
fn resident_mb() -> f64 {
    let pages = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<f64>().ok())
        .unwrap_or(0.0);
    pages * 4096.0 / (1024.0 * 1024.0)
}

fn dead_letters_counted() -> u64 {
    use prometheus::core::Collector;
    crate::metrics::metrics()
        .bus_dead_letters
        .collect()
        .iter()
        .flat_map(|family| family.get_metric().iter().map(|m| m.get_counter().get_value() as u64))
        .sum()
}

async fn count(store: &Store, sql: &str) -> anyhow::Result<u64> {
    let row = store
        .connection()
        .query_one_raw(Statement::from_string(store.connection().get_database_backend(), sql))
        .await?
        .context("a count answers one row")?;
    Ok(row.try_get_by_index::<i64>(0)? as u64)
}

/// The 50th and 99th percentile of capture-to-stored time of the events seen after `since`, in ms.
async fn latencies(store: &Store, since: chrono::DateTime<Utc>) -> anyhow::Result<(f64, f64)> {
    let since = since.to_rfc3339();
    let sql = format!(
        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms), percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) \
         FROM (SELECT EXTRACT(EPOCH FROM recorded_at - seen_at)::float8 * 1000 AS ms FROM attendance_events \
         WHERE seen_at >= '{since}') l"
    );
    let row = store
        .connection()
        .query_one_raw(Statement::from_string(store.connection().get_database_backend(), sql))
        .await?
        .context("percentiles answer one row")?;
    Ok((
        row.try_get_by_index::<Option<f64>>(0)?.unwrap_or(0.0),
        row.try_get_by_index::<Option<f64>>(1)?.unwrap_or(0.0),
    ))
}
