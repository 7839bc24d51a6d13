//! Building each stage onto the bus: its inputs and outputs, the ledger, the control plane and
//! the cache, then waiting for all of them.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::TimeDelta;
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;

use super::RunSummary;
use crate::bus::Bus;
use crate::config::Config;
use crate::control::LiveTee;
use crate::ingest::IngestStats;
use crate::project::{Attendance, ProjectError, ProjectStats, Projector, UnknownFaces};
use crate::recognize::{RecognizeOutputs, RecognizeStats, RecognizeWorker, SharedGallery, WorkerSettings};
use crate::store::Store;
use crate::vision::FaceEngine;

/// The stages of one process, as they are built and started.
pub(super) struct Wiring<'a> {
    config: &'a Config,
    bus: Option<Arc<dyn Bus>>,
    store: Option<Store>,
    drain_deadline: CancellationToken,
    ingest: Option<JoinHandle<anyhow::Result<IngestStats>>>,
    workers: JoinSet<anyhow::Result<RecognizeStats>>,
    /// The gallery watcher, and the token that stops it once the workers are done.
    watcher: Option<(JoinHandle<anyhow::Result<()>>, CancellationToken)>,
    projector: Option<JoinHandle<Result<ProjectStats, ProjectError>>>,
    /// The projector of unknown faces, kept for review.
    reviewer: Option<JoinHandle<Result<ProjectStats, ProjectError>>>,
}

impl<'a> Wiring<'a> {
    pub(super) fn new(
        config: &'a Config,
        bus: Arc<dyn Bus>,
        store: Option<Store>,
        drain_deadline: CancellationToken,
    ) -> Self {
        Self {
            config,
            bus: Some(bus),
            store,
            drain_deadline,
            ingest: None,
            workers: JoinSet::new(),
            watcher: None,
            projector: None,
            reviewer: None,
        }
    }

    fn bus(&self) -> &Arc<dyn Bus> {
        self.bus.as_ref().expect("the bus is kept until every stage is built")
    }

    fn store(&self) -> &Store {
        self.store
            .as_ref()
            .expect("a store is opened for recognize and project")
    }

    /// Starts the cameras; `register` records them in the store first (a process that runs
    /// every stage has one). Returns how many cameras there are.
    pub(super) async fn ingest(&mut self, register: bool, stop: CancellationToken) -> anyhow::Result<usize> {
        let cameras = self.config.ingest.resolve_cameras()?;
        if register {
            let svc = crate::usecases::Services {
                store: self.store().clone(),
                cache: None,
                nats: None,
            };
            let actor = crate::usecases::cli_actor();
            for c in &cameras {
                crate::usecases::cameras::register(&svc, &actor, &c.id, &c.display_name(), &c.location, c.role)
                    .await
                    .context("registering cameras")?;
            }
        }
        if let Some(nats) = crate::control::Nats::connect(&self.config.nats).await? {
            let ids = cameras.iter().map(|c| c.id.clone()).collect();
            let every = std::time::Duration::from_secs(self.config.ingest.status_secs);
            tokio::spawn(crate::ingest::status::announce(nats, ids, every, stop.clone()));
        }
        let frames = self.bus().frames_producer()?;
        let (list, fps, max_pixels) = (cameras.clone(), self.config.ingest.fps, self.config.vision.max_pixels);
        self.ingest = Some(tokio::spawn(async move {
            crate::ingest::run_cameras(&list, fps, max_pixels, frames, stop).await
        }));
        Ok(cameras.len())
    }

    /// Starts the recognizer workers, each with its engine, the shared gallery kept current,
    /// the cooldown ledger, and the live tee when NATS is configured.
    pub(super) async fn recognize(&mut self, stop: CancellationToken) -> anyhow::Result<()> {
        let config = self.config;
        let engines = load_engines(config, config.recognize.workers).await?;
        let model_id = engines[0].model_id().to_owned();
        let store = self.store().clone();
        let gallery = crate::recognize::load_gallery(&store, &model_id).await?;
        if gallery.is_empty() {
            tracing::warn!(model = %model_id, "the gallery is empty: enrol people with `rollcall enroll` first; every face will be unknown");
        }
        tracing::info!(
            people = gallery.people(),
            templates = gallery.len(),
            workers = engines.len(),
            "recognizer starting"
        );
        let gallery = SharedGallery::new(gallery);
        let bus = Arc::clone(self.bus());
        let mut outputs = RecognizeOutputs {
            events: bus.attendance_producer()?,
            unknown: bus.unknown_producer()?,
            dead_letters: bus.frames_dead_letters()?,
        };
        let nats = crate::control::Nats::connect(&config.nats).await?;
        if let Some(nats) = &nats {
            outputs.events = Arc::new(LiveTee {
                inner: outputs.events,
                nats: nats.clone(),
            });
        }
        let changes = match &nats {
            Some(nats) => Some(crate::recognize::subscribe_to_gallery_changes(nats).await?),
            None => None,
        };
        let watch_stop = stop.child_token();
        let watch = crate::recognize::keep_gallery_current(
            changes,
            store.clone(),
            model_id,
            gallery.clone(),
            Duration::from_secs(config.nats.gallery_reload_secs.max(1)),
            watch_stop.clone(),
        );
        self.watcher = Some((tokio::spawn(watch), watch_stop));
        let cooldown = TimeDelta::seconds(config.recognize.cooldown_secs as i64);
        for engine in engines {
            let settings = WorkerSettings {
                threshold: config.matching.threshold,
                cooldown,
                mode: config.recognize.mode,
                track: config.recognize.track.clone(),
                review_margin: config.review.match_margin,
            };
            let worker = RecognizeWorker::new(engine, gallery.clone(), settings, outputs.clone())
                .with_ledger(store.clone(), bus.durable());
            self.workers.spawn(worker.run(bus.frames_consumer()?, stop.clone()));
        }
        Ok(())
    }

    /// Starts the projectors: attendance, with the cache invalidated when Redis is configured,
    /// and unknown faces for review.
    pub(super) fn project(&mut self, stop: CancellationToken) -> anyhow::Result<()> {
        let bus = Arc::clone(self.bus());
        let mut projector = Projector::new(
            Attendance,
            self.store().clone(),
            self.config.project.clone(),
            bus.attendance_dead_letters()?,
        );
        if let Some(url) = &self.config.redis.url {
            projector = projector.with_cache(crate::cache::Cache::connect(url)?);
        }
        let (events, abort) = (bus.attendance_consumer()?, self.drain_deadline.clone());
        self.projector = Some(tokio::spawn(projector.run(events, stop.clone(), abort.clone())));
        let unknown_faces = UnknownFaces {
            cluster_distance: self.config.review.cluster_distance,
        };
        let reviewer = Projector::new(
            unknown_faces,
            self.store().clone(),
            self.config.project.clone(),
            bus.unknown_dead_letters()?,
        );
        self.reviewer = Some(tokio::spawn(reviewer.run(bus.unknown_consumer()?, stop, abort)));
        Ok(())
    }

    /// Lets go of the bus (an in-process topic ends when its last producer is gone) and waits
    /// for every stage.
    pub(super) async fn finish(mut self) -> anyhow::Result<RunSummary> {
        self.bus = None;
        let mut summary = RunSummary::default();
        if let Some(ingest) = self.ingest.take() {
            summary.ingest = ingest.await.context("ingest panicked")??;
        }
        while let Some(done) = self.workers.join_next().await {
            summary.recognize.add(&done.context("recognize worker panicked")??);
        }
        if let Some((watcher, stop)) = self.watcher.take() {
            stop.cancel();
            watcher.await.context("gallery watcher panicked")??;
        }
        if let Some(projector) = self.projector.take() {
            summary.project = projector.await.context("projector panicked")??;
        }
        if let Some(reviewer) = self.reviewer.take() {
            summary.review = reviewer.await.context("unknown-face projector panicked")??;
        }
        Ok(summary)
    }
}

/// One engine per worker, loaded off the reactor, side by side: a start with several workers
/// takes about as long as one.
pub async fn load_engines(config: &Config, workers: usize) -> anyhow::Result<Vec<FaceEngine>> {
    let loading: Vec<_> = (0..workers)
        .map(|_| {
            let config = config.clone();
            tokio::task::spawn_blocking(move || FaceEngine::load(&config))
        })
        .collect();
    let mut engines = Vec::with_capacity(workers);
    for engine in loading {
        engines.push(engine.await.context("loading models panicked")??);
    }
    Ok(engines)
}
