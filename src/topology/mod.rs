//! The one wiring of the pipeline: ingest → recognize → project over a bus, with the cooldown
//! ledger, the NATS control plane and live tee, and cache invalidation. `rollcall run` builds all
//! three stages in one process (over the in-process bus, or Kafka); `rollcall ingest`,
//! `recognize` and `project` build one each over Kafka. Tests and benchmarks call the same.

mod stages;

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio_util::sync::CancellationToken;

use crate::bus::kafka::KafkaBus;
use crate::bus::{Bus, MemoryBus};
use crate::config::{BusKind, Config};
use crate::ingest::IngestStats;
use crate::project::ProjectStats;
use crate::recognize::RecognizeStats;
use crate::retry::Backoff;
use crate::store::Store;

pub use stages::load_engines;

/// Which stages a process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stages {
    All,
    Ingest,
    Recognize,
    Project,
}

impl Stages {
    fn ingest(self) -> bool {
        matches!(self, Stages::All | Stages::Ingest)
    }
    fn recognize(self) -> bool {
        matches!(self, Stages::All | Stages::Recognize)
    }
    fn project(self) -> bool {
        matches!(self, Stages::All | Stages::Project)
    }
}

/// What a run did, summed over its stages.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RunSummary {
    pub cameras: usize,
    pub ingest: IngestStats,
    pub recognize: RecognizeStats,
    pub project: ProjectStats,
    /// The projector of unknown faces (kept for review).
    pub review: ProjectStats,
    /// Dead letters the in-process bus collected, as (key, "kind: reason"); over Kafka they
    /// are on the dead-letter topics instead.
    pub dead_letters: Vec<(String, String)>,
    /// From the start of the run until the recognizer's engines were loaded and its workers
    /// running (the store opened and migrated, the models loaded): what a throughput figure
    /// leaves out.
    pub recognizer_ready_after: Option<Duration>,
}

/// Runs `stages` until their input ends (replayed folders over the in-process bus) or
/// `shutdown` is cancelled; then in-flight work drains for up to `shutdown.drain_timeout_secs`.
pub async fn run(config: &Config, stages: Stages, shutdown: CancellationToken) -> anyhow::Result<RunSummary> {
    let started = std::time::Instant::now();
    let (bus, collected): (Arc<dyn Bus>, _) = match config.bus.kind {
        BusKind::Kafka => (Arc::new(KafkaBus::new(&config.kafka)), None),
        BusKind::Memory if stages == Stages::All => {
            let bus = MemoryBus::new(config.recognize.workers, config.bus.capacity);
            let collected = bus.drain_unconsumed();
            (Arc::new(bus), Some(collected))
        }
        BusKind::Memory => bail!(
            "`rollcall {}` runs one stage over Kafka: set bus.kind = \"kafka\" and [kafka] brokers; \
             the embedded default runs every stage in one process with `rollcall run`",
            format!("{stages:?}").to_lowercase()
        ),
    };
    let drain_deadline =
        crate::shutdown::drain_deadline(&shutdown, Duration::from_secs(config.shutdown.drain_timeout_secs));
    // A durable bus keeps what is not consumed yet, so every stage stops at shutdown. The
    // in-process bus would lose it: there the stages after ingest stop when their input ends,
    // unless the drain outlives its deadline.
    let downstream_stop = if bus.durable() {
        shutdown.clone()
    } else {
        drain_deadline.clone()
    };
    let store = if stages.recognize() || stages.project() {
        Some(open_store(config, bus.durable(), &shutdown).await?)
    } else {
        None
    };
    let mut wiring = stages::Wiring::new(config, bus, store, drain_deadline);
    let cameras = if stages.ingest() {
        wiring.ingest(stages == Stages::All, shutdown.clone()).await?
    } else {
        0
    };
    let mut recognizer_ready_after = None;
    if stages.recognize() {
        wiring.recognize(downstream_stop.clone()).await?;
        recognizer_ready_after = Some(started.elapsed());
    }
    if stages.project() {
        wiring.project(downstream_stop)?;
    }
    let mut summary = wiring.finish().await?;
    summary.cameras = cameras;
    summary.recognizer_ready_after = recognizer_ready_after;
    if let Some(collected) = collected {
        summary.dead_letters = collected.await.context("dead-letter drain panicked")?;
    }
    Ok(summary)
}

/// Every stage in one process over the in-process bus (the embedded default): `run` with
/// `bus.kind = "memory"`.
pub async fn run_embedded(config: &Config, shutdown: CancellationToken) -> anyhow::Result<RunSummary> {
    if config.bus.kind != BusKind::Memory {
        bail!("the embedded pipeline runs over the in-process bus: bus.kind = \"memory\"");
    }
    run(config, Stages::All, shutdown).await
}

/// Publishes every configured camera's frames over Kafka; returns when all folders are replayed
/// or on shutdown.
pub async fn ingest(config: &Config, shutdown: CancellationToken) -> anyhow::Result<IngestStats> {
    Ok(run(config, Stages::Ingest, shutdown).await?.ingest)
}

/// Recognizer workers in their Kafka consumer group until shutdown; each finishes its frame.
pub async fn recognize(config: &Config, shutdown: CancellationToken) -> anyhow::Result<RecognizeStats> {
    Ok(run(config, Stages::Recognize, shutdown).await?.recognize)
}

/// The projector in its Kafka consumer group until shutdown; then it stores its batch and commits.
pub async fn project(config: &Config, shutdown: CancellationToken) -> anyhow::Result<ProjectStats> {
    Ok(run(config, Stages::Project, shutdown).await?.project)
}

/// Opens the store. A long-running stage on a durable bus waits for a database that is down;
/// the embedded run, which ends by itself, fails at once with the reason.
async fn open_store(config: &Config, wait: bool, shutdown: &CancellationToken) -> anyhow::Result<Store> {
    let (url, connections) = (&config.store.url, config.store.max_connections);
    if !wait {
        return Store::open(url, connections).await;
    }
    let p = &config.project;
    let backoff = Backoff::new(
        Duration::from_millis(p.retry_initial_ms),
        Duration::from_millis(p.retry_max_ms),
    );
    Store::open_retrying(url, connections, backoff, shutdown).await
}
