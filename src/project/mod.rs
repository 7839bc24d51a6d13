//! Project: events in (attendance, or unknown faces for review); batched, idempotent writes to
//! the store; offsets committed after; the cache keys the batch changed invalidated.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::trace::TraceContextExt;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use serde::{Deserialize, Serialize};

mod isolate;
mod projection;

pub use projection::{Attendance, Projection, UnknownFaces};

use crate::bus::{BusError, Consumer, DeadLetter, Position, Producer};
use crate::cache::Cache;
use crate::domain::Validate;
use crate::store::{BatchOutcome, Store};
use crate::telemetry::context::continue_trace;
use crate::telemetry::events::{BatchStored, CacheDegraded, CacheInvalidated, Emit};
use isolate::{PartWrite, Source};

/// `[project]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProjectConfig {
    pub batch_size: usize,
    pub linger_ms: u64,
    /// First and largest delay between retries of a failed batch write.
    pub retry_initial_ms: u64,
    pub retry_max_ms: u64,
}

impl Default for ProjectConfig {
    fn default() -> Self {
        Self {
            batch_size: 500,
            linger_ms: 200,
            retry_initial_ms: 100,
            retry_max_ms: 10_000,
        }
    }
}

/// Counters of the projector.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ProjectStats {
    pub batches: u64,
    pub inserted: u64,
    pub duplicates: u64,
    /// Events of erased people, dropped.
    pub erased: u64,
    pub dead_lettered: u64,
    pub write_retries: u64,
    /// Cache keys invalidated after committed batches.
    pub cache_invalidations: u64,
    /// Invalidations that did not reach Redis (harmless for readers: keys are versioned).
    pub cache_failures: u64,
}

pub struct Projector<P: Projection> {
    store: Store,
    config: ProjectConfig,
    dead_letters: Arc<dyn Producer<DeadLetter>>,
    cache: Option<Cache>,
    stats: ProjectStats,
    batch: Vec<P::Event>,
    /// Where each event of the batch came from.
    sources: Vec<Source>,
    /// One span per event in the batch, in its frame's trace, ended once the event is stored.
    traced: Vec<tracing::Span>,
    /// Highest position per partition in the current batch: committed once the batch is stored.
    pending: HashMap<i32, Position>,
    projection: P,
}

/// Why the projector stopped early.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error("stopped while a batch of {0} events was not yet stored; its offsets were not committed")]
    StoppedWithUnstoredBatch(usize),
    #[error(transparent)]
    Bus(#[from] BusError),
}

impl<P: Projection> Projector<P> {
    pub fn new(
        projection: P,
        store: Store,
        config: ProjectConfig,
        dead_letters: Arc<dyn Producer<DeadLetter>>,
    ) -> Self {
        Self {
            store,
            config,
            dead_letters,
            cache: None,
            stats: ProjectStats::default(),
            batch: Vec::new(),
            sources: Vec::new(),
            traced: Vec::new(),
            pending: HashMap::new(),
            projection,
        }
    }

    /// Invalidates the cached keys each committed batch changes.
    pub fn with_cache(mut self, cache: Cache) -> Self {
        self.cache = Some(cache);
        self
    }

    /// Runs until the stream ends or `stop` is cancelled; either way the batch in hand is stored
    /// and committed before returning. `abort` (the drain deadline) gives up on an unstored
    /// batch without committing it, so it is delivered again.
    pub async fn run(
        mut self,
        mut events: Box<dyn Consumer<P::Event>>,
        stop: CancellationToken,
        abort: CancellationToken,
    ) -> Result<ProjectStats, ProjectError> {
        let linger = Duration::from_millis(self.config.linger_ms);
        let mut deadline: Option<Instant> = None;
        loop {
            let flush_at = deadline;
            let next = tokio::select! {
                biased;
                _ = abort.cancelled() => return Err(ProjectError::StoppedWithUnstoredBatch(self.batch.len())),
                _ = stop.cancelled() => break,
                _ = sleep_until(flush_at), if flush_at.is_some() => {
                    self.flush(events.as_mut(), &abort).await?;
                    deadline = None;
                    continue;
                }
                next = events.next() => next,
            };
            match next {
                None => break,
                Some(Ok(record)) => {
                    let position = record.position;
                    if let Err(invalid) = record.value.validate() {
                        let payload = serde_json::to_vec(&record.value).unwrap_or_default();
                        let letter = DeadLetter {
                            stage: P::STAGE.to_owned(),
                            kind: "invalid_event".to_owned(),
                            reason: invalid.to_string(),
                            key: record.key,
                            payload,
                            source: position,
                        };
                        self.dead_letter(letter).await?;
                        self.mark_done(position);
                    } else {
                        let span = tracing::info_span!(
                            "project.event",
                            projection = P::NAME,
                            event_id = %P::event_id(&record.value),
                            partition = position.partition,
                            offset = position.offset
                        );
                        continue_trace(&span, record.trace_parent.as_deref());
                        self.traced.push(span);
                        self.sources.push(Source {
                            key: record.key,
                            position,
                            payload: record.payload,
                        });
                        self.batch.push(record.value);
                        self.mark_done(position);
                    }
                }
                Some(Err(BusError::Poison(poison))) => {
                    let position = poison.position;
                    self.dead_letter(DeadLetter::from_poison(P::STAGE, *poison)).await?;
                    self.mark_done(position);
                }
                Some(Err(e)) => {
                    tracing::warn!(error = %e, "event consumer failed; retrying");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    continue;
                }
            }
            if self.batch.len() >= self.config.batch_size {
                self.flush(events.as_mut(), &abort).await?;
                deadline = None;
            } else if deadline.is_none() && !self.pending.is_empty() {
                deadline = Some(Instant::now() + linger);
            }
        }
        self.flush(events.as_mut(), &abort).await?;
        Ok(self.stats)
    }

    fn mark_done(&mut self, position: Position) {
        let entry = self.pending.entry(position.partition).or_insert(position);
        entry.offset = entry.offset.max(position.offset);
    }

    /// Writes the batch (retrying with backoff until it lands), then commits its offsets and
    /// invalidates the cache; traced as `project.flush`, linked to the events' traces.
    async fn flush(
        &mut self,
        events: &mut dyn Consumer<P::Event>,
        abort: &CancellationToken,
    ) -> Result<(), ProjectError> {
        let span = tracing::info_span!("project.flush", projection = P::NAME, events = self.batch.len());
        for event in &self.traced {
            let context = event.context().span().span_context().clone();
            if context.is_valid() {
                span.add_link(context);
            }
        }
        let flushed = self.write_and_commit(events, abort).instrument(span).await;
        // Ends each event's span: its trace now runs from the camera to the store and the cache.
        self.traced.clear();
        flushed
    }

    async fn write_and_commit(
        &mut self,
        events: &mut dyn Consumer<P::Event>,
        abort: &CancellationToken,
    ) -> Result<(), ProjectError> {
        let mut changed = Vec::new();
        if !self.batch.is_empty() {
            let outcome = self.write_retrying(abort).await?;
            let stored = vec![
                KeyValue::new("batch.events", self.batch.len() as i64),
                KeyValue::new("batch.inserted", outcome.inserted as i64),
                KeyValue::new("batch.duplicates", outcome.duplicates as i64),
                KeyValue::new("batch.erased", outcome.erased as i64),
            ];
            for span in &self.traced {
                span.add_event("stored", stored.clone());
            }
            self.stats.batches += 1;
            self.stats.inserted += outcome.inserted as u64;
            self.stats.duplicates += outcome.duplicates as u64;
            self.stats.erased += outcome.erased as u64;
            changed = outcome.generations;
            self.batch.clear();
            self.sources.clear();
        }
        for (_, position) in self.pending.drain() {
            events.commit(position)?;
        }
        self.invalidate(&changed).await;
        Ok(())
    }

    /// Writes the batch, retrying with backoff until it lands or `abort` gives up on it; a batch
    /// the store refuses for its data is split, and what it refuses is dead-lettered.
    async fn write_retrying(&mut self, abort: &CancellationToken) -> Result<BatchOutcome, ProjectError> {
        let started = std::time::Instant::now();
        let outcome = match self.write_part(0..self.batch.len(), abort).await? {
            PartWrite::Stored(outcome) => outcome,
            PartWrite::Refused(reason) => {
                tracing::warn!(
                    events = self.batch.len(),
                    reason,
                    "the store refused a batch; isolating what it refuses"
                );
                self.write_isolating(reason, abort).await?
            }
        };
        BatchStored {
            projection: P::NAME,
            events: self.batch.len(),
            inserted: outcome.inserted,
            duplicates: outcome.duplicates,
            erased: outcome.erased,
            took: started.elapsed(),
        }
        .emit();
        Ok(outcome)
    }

    /// Invalidates the cache keys a committed batch changed, when there is a cache.
    async fn invalidate(&mut self, changed: &[(String, i64)]) {
        // An API in this process (`rollcall run`) reads the new generations at once.
        self.store.observe_generations(changed);
        let Some(cache) = &self.cache else { return };
        let invalidation = tracing::info_span!("cache.invalidate", keys = changed.len());
        match cache.invalidate(changed).instrument(invalidation).await {
            Ok(n) => {
                self.stats.cache_invalidations += n as u64;
                CacheInvalidated { keys: n }.emit();
                for span in &self.traced {
                    span.add_event("cache invalidated", vec![KeyValue::new("cache.keys", n as i64)]);
                }
            }
            Err(e) => {
                self.stats.cache_failures += 1;
                CacheDegraded {
                    keys: changed.len(),
                    error: &e,
                }
                .emit();
            }
        }
    }

    async fn dead_letter(&mut self, letter: DeadLetter) -> Result<(), ProjectError> {
        self.stats.dead_lettered += 1;
        letter.emit();
        self.dead_letters.send(&letter.key.clone(), letter).await?;
        Ok(())
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
