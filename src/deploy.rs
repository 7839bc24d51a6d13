//! Stages on their own over Kafka and the configured store: `rollcall ingest`, `recognize` and
//! `project`, one per process for scale-out, or all three in one process (`rollcall run` with
//! `bus.kind = "kafka"`).

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::bus::kafka::KafkaBus;
use crate::config::{BusKind, Config};
use crate::control::LiveTee;
use crate::gallery::SharedGallery;
use crate::pipeline::{cameras, load_engines};
use crate::stages::Backoff;
use crate::stages::ingest::{IngestStats, replay_cameras};
use crate::stages::project::{ProjectStats, Projector};
use crate::stages::recognize::{RecognizeOutputs, RecognizeStats, RecognizeWorker};
use crate::store::Store;

fn kafka(config: &Config, stage: &str) -> anyhow::Result<KafkaBus> {
    if config.bus.kind != BusKind::Kafka {
        bail!(
            "`rollcall {stage}` runs one stage over Kafka: set bus.kind = \"kafka\" and [kafka] brokers; \
             the embedded default runs every stage in one process with `rollcall run`"
        );
    }
    Ok(KafkaBus::new(&config.kafka))
}

async fn open_store(config: &Config, shutdown: &CancellationToken) -> anyhow::Result<Store> {
    let p = &config.project;
    let backoff = Backoff::new(
        Duration::from_millis(p.retry_initial_ms),
        Duration::from_millis(p.retry_max_ms),
    );
    Store::open_retrying(&config.store.url, config.store.max_connections, backoff, shutdown).await
}

/// Publishes every configured camera's frames; returns when all folders are replayed or on shutdown.
pub async fn ingest(config: &Config, shutdown: CancellationToken) -> anyhow::Result<IngestStats> {
    let bus = kafka(config, "ingest")?;
    replay_cameras(&cameras(config)?, config.ingest.fps, bus.frames_producer()?, shutdown).await
}

/// Recognizer workers in the consumer group until shutdown; each finishes its frame in hand.
pub async fn recognize(config: &Config, shutdown: CancellationToken) -> anyhow::Result<RecognizeStats> {
    let bus = kafka(config, "recognize")?;
    let store = open_store(config, &shutdown).await?;
    let engines = load_engines(config, config.recognize.workers).await?;
    let gallery = store.load_gallery(engines[0].model_id()).await?;
    tracing::info!(
        people = gallery.people(),
        templates = gallery.len(),
        workers = engines.len(),
        "recognizer starting"
    );
    let gallery = SharedGallery::new(gallery);
    let mut outputs = RecognizeOutputs {
        events: bus.attendance_producer()?,
        unknown: bus.unknown_producer()?,
        dead_letters: bus.frames_dead_letters()?,
    };
    let mut control = None;
    if let Some(url) = &config.nats.url {
        let nats = crate::control::connect(url).await?;
        outputs.events = Arc::new(LiveTee {
            inner: outputs.events,
            nats: nats.clone(),
        });
        let reload = Duration::from_secs(config.nats.gallery_reload_secs.max(1));
        let watch = crate::control::keep_gallery_current(
            nats,
            store.clone(),
            config.models.recognizer.clone(),
            gallery.clone(),
            reload,
            shutdown.clone(),
        );
        control = Some(tokio::spawn(watch));
    }
    let mut workers = JoinSet::new();
    for engine in engines {
        let worker =
            RecognizeWorker::from_config(engine, gallery.clone(), config, outputs.clone()).with_ledger(store.clone());
        workers.spawn(worker.run(bus.frames_consumer()?, shutdown.clone()));
    }
    let mut stats = RecognizeStats::default();
    while let Some(done) = workers.join_next().await {
        stats.add(&done.context("recognize worker panicked")??);
    }
    if let Some(control) = control {
        control.await.context("gallery watcher panicked")??;
    }
    Ok(stats)
}

/// The projector in its consumer group until shutdown; then it stores its batch and commits.
pub async fn project(config: &Config, shutdown: CancellationToken) -> anyhow::Result<ProjectStats> {
    let bus = kafka(config, "project")?;
    let store = open_store(config, &shutdown).await?;
    let abort = crate::shutdown::drain_deadline(&shutdown, Duration::from_secs(config.shutdown.drain_timeout_secs));
    let mut projector = Projector::new(store, config.project.clone(), bus.attendance_dead_letters()?);
    if let Some(url) = &config.redis.url {
        projector = projector.with_cache(crate::cache::Cache::connect(url)?);
    }
    Ok(projector.run(bus.attendance_consumer()?, shutdown, abort).await?)
}

/// All three stages in one process over Kafka, until shutdown.
pub async fn all(config: &Config, shutdown: CancellationToken) -> anyhow::Result<()> {
    let (ingested, recognized, projected) = tokio::join!(
        ingest(config, shutdown.clone()),
        recognize(config, shutdown.clone()),
        project(config, shutdown)
    );
    let (i, r, p) = (ingested?, recognized?, projected?);
    tracing::info!(
        frames = i.frames,
        events = r.events,
        stored = p.inserted,
        "stages stopped"
    );
    Ok(())
}
