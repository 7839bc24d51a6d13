//! `rollcall run`: every stage in one process over the in-process bus (the embedded default).

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::bus::{Consumer, DeadLetter, MemoryConsumer, memory_topic};
use crate::config::{CameraConfig, Config};
use crate::domain::{AttendanceEvent, CameraId, Frame, UnknownFaceEvent};
use crate::gallery::SharedGallery;
use crate::stages::ingest::{IngestStats, replay_cameras};
use crate::stages::project::{ProjectStats, Projector};
use crate::stages::recognize::{RecognizeOutputs, RecognizeStats, RecognizeWorker};
use crate::store::Store;
use crate::vision::FaceEngine;

/// What a run did, summed over stages.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RunSummary {
    pub cameras: usize,
    pub ingest: IngestStats,
    pub recognize: RecognizeStats,
    pub project: ProjectStats,
    pub dead_letters: Vec<(String, String)>,
}

/// The cameras to replay: those configured, or one per folder under `ingest.cameras_dir`.
pub fn cameras(config: &Config) -> anyhow::Result<Vec<CameraConfig>> {
    if !config.ingest.cameras.is_empty() {
        return Ok(config.ingest.cameras.clone());
    }
    let dir = &config.ingest.cameras_dir;
    let entries = std::fs::read_dir(dir).with_context(|| {
        format!("no cameras configured and camera folder {} is missing: put one folder of images per camera there, or configure [[ingest.cameras]]", dir.display())
    })?;
    let mut found = Vec::new();
    for entry in entries {
        let path = entry?.path();
        if !path.is_dir() {
            continue;
        }
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        let id = CameraId::from_name(&name).with_context(|| format!("camera folder {}", path.display()))?;
        found.push(CameraConfig {
            name: Some(name),
            ..CameraConfig::folder(id, path.clone())
        });
    }
    found.sort_by(|a, b| a.id.cmp(&b.id));
    if found.is_empty() {
        bail!("no camera folders under {}", dir.display());
    }
    Ok(found)
}

/// Runs ingest → recognize → project until every camera folder is replayed and drained, or
/// until `shutdown` is cancelled (then in-flight work drains for up to the drain timeout).
pub async fn run_embedded(config: &Config, shutdown: CancellationToken) -> anyhow::Result<RunSummary> {
    let cameras = cameras(config)?;
    let store = Store::open(&config.store.url, config.store.max_connections).await?;
    for c in &cameras {
        let name = c.name.clone().unwrap_or_else(|| c.id.to_string());
        store
            .upsert_camera(&c.id, &name, &c.location, c.role)
            .await
            .context("registering cameras")?;
    }

    let workers = config.recognize.workers;
    let engines = load_engines(config, workers).await?;
    let model_id = engines[0].model_id().to_owned();
    let gallery = store.load_gallery(&model_id).await?;
    if gallery.is_empty() {
        tracing::warn!(model = %model_id, "the gallery is empty: enrol people with `rollcall enroll` first; every face will be unknown");
    }
    tracing::info!(
        people = gallery.people(),
        templates = gallery.len(),
        cameras = cameras.len(),
        workers,
        "pipeline starting"
    );
    let gallery = SharedGallery::new(gallery);

    let capacity = config.bus.capacity;
    let (frames_tx, frames_rx) = memory_topic::<Frame>(workers, capacity);
    let (events_tx, events_rx) = memory_topic::<AttendanceEvent>(1, capacity * 8);
    let (unknown_tx, unknown_rx) = memory_topic::<UnknownFaceEvent>(1, capacity * 8);
    let (dlq_tx, dlq_rx) = memory_topic::<DeadLetter>(1, capacity);

    // Consumers stop on their own when their input ends; the deadline only cuts a drain that
    // outlives the timeout after a shutdown request.
    let drain_deadline =
        crate::shutdown::drain_deadline(&shutdown, Duration::from_secs(config.shutdown.drain_timeout_secs));

    let ingest_task = tokio::spawn({
        let (cameras, fps, stop) = (cameras.clone(), config.ingest.fps, shutdown.clone());
        async move { replay_cameras(&cameras, fps, Arc::new(frames_tx), stop).await }
    });

    let outputs = RecognizeOutputs {
        events: Arc::new(events_tx),
        unknown: Arc::new(unknown_tx),
        dead_letters: Arc::new(dlq_tx.clone()),
    };
    let mut recognize_tasks = JoinSet::new();
    for (engine, receiver) in engines.into_iter().zip(frames_rx) {
        let worker = RecognizeWorker::from_config(engine, gallery.clone(), config, outputs.clone());
        let consumer: Box<dyn Consumer<Frame>> = Box::new(MemoryConsumer::new(vec![receiver]));
        recognize_tasks.spawn(worker.run(consumer, drain_deadline.clone()));
    }
    drop(outputs);

    let projector = Projector::new(store.clone(), config.project.clone(), Arc::new(dlq_tx));
    let events: Box<dyn Consumer<AttendanceEvent>> = Box::new(MemoryConsumer::new(events_rx));
    let project_task = tokio::spawn(projector.run(events, CancellationToken::new(), drain_deadline.clone()));
    // Unknown faces have no consumer in the embedded default; they are counted and dropped.
    let unknown_task = tokio::spawn(drain_count(MemoryConsumer::new(unknown_rx)));
    let dlq_task = tokio::spawn(collect_dead_letters(MemoryConsumer::new(dlq_rx)));

    let mut summary = RunSummary {
        cameras: cameras.len(),
        ..Default::default()
    };
    summary.ingest = ingest_task.await.context("ingest panicked")??;
    while let Some(done) = recognize_tasks.join_next().await {
        summary.recognize.add(&done.context("recognize worker panicked")??);
    }
    summary.project = project_task.await.context("projector panicked")??;
    unknown_task.await.context("unknown-face drain panicked")?;
    summary.dead_letters = dlq_task.await.context("dead-letter drain panicked")?;
    Ok(summary)
}

pub(crate) async fn load_engines(config: &Config, workers: usize) -> anyhow::Result<Vec<FaceEngine>> {
    let config = config.clone();
    tokio::task::spawn_blocking(move || {
        (0..workers)
            .map(|_| FaceEngine::load(&config))
            .collect::<anyhow::Result<Vec<_>>>()
    })
    .await
    .context("loading models panicked")?
}

async fn drain_count<T: Send + 'static>(mut consumer: MemoryConsumer<T>) -> u64 {
    let mut n = 0;
    while let Some(Ok(_)) = consumer.next().await {
        n += 1;
    }
    n
}

/// The embedded default has no dead-letter topic to keep them in: log each one and report them.
async fn collect_dead_letters(mut consumer: MemoryConsumer<DeadLetter>) -> Vec<(String, String)> {
    let mut letters = Vec::new();
    while let Some(Ok(record)) = consumer.next().await {
        let l = record.value;
        tracing::warn!(stage = %l.stage, kind = %l.kind, key = %l.key, reason = %l.reason, "dead letter");
        letters.push((l.key, format!("{}: {}", l.kind, l.reason)));
    }
    letters
}
