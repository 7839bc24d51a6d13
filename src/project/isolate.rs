//! A batch the store refuses for its data (a constraint or a value no check foresaw) is split
//! until each refused event is alone; those go to the dead-letter topic with their original
//! bytes, and the rest are stored. Without this, one bad event from another producer would hold
//! every later batch back forever, since the write is retried until it lands.

use std::ops::Range;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::{ProjectError, Projection, Projector};
use crate::bus::{DeadLetter, Position};
use crate::retry::Backoff;
use crate::store::{BatchOutcome, is_permanent};
use crate::telemetry::events::{BatchRetried, Emit};

/// Where an event of the batch came from: enough to dead-letter it as it arrived.
pub(super) struct Source {
    pub key: String,
    pub position: Position,
    /// The original bytes, when the bus kept them (Kafka); otherwise the event is serialised
    /// again.
    pub payload: Option<Vec<u8>>,
}

/// What writing part of a batch came to.
pub(super) enum PartWrite {
    Stored(BatchOutcome),
    /// The store refused the data, with its reason; retrying would fail the same way.
    Refused(String),
}

impl<P: Projection> Projector<P> {
    /// Writes `part` of the batch in one transaction, retrying failures that may pass with
    /// backoff until it lands or `abort` gives up on it.
    pub(super) async fn write_part(
        &mut self,
        part: Range<usize>,
        abort: &CancellationToken,
    ) -> Result<PartWrite, ProjectError> {
        let mut backoff = Backoff::new(
            Duration::from_millis(self.config.retry_initial_ms),
            Duration::from_millis(self.config.retry_max_ms),
        );
        loop {
            let events = &self.batch[part.clone()];
            let write = tracing::info_span!("store.write", projection = P::NAME, events = events.len());
            match self.projection.write(&self.store, events).instrument(write).await {
                Ok(outcome) => return Ok(PartWrite::Stored(outcome)),
                Err(e) if is_permanent(&e) => return Ok(PartWrite::Refused(e.to_string())),
                Err(e) => {
                    self.stats.write_retries += 1;
                    let delay = backoff.next_delay();
                    BatchRetried {
                        projection: P::NAME,
                        events: part.len(),
                        error: &e,
                        retry_in: delay,
                    }
                    .emit();
                    tokio::select! {
                        _ = abort.cancelled() => return Err(ProjectError::StoppedWithUnstoredBatch(self.batch.len())),
                        _ = tokio::time::sleep(delay) => {}
                    }
                }
            }
        }
    }

    /// Stores what the store accepts of a batch it refused as a whole (for `reason`), halving
    /// the refused parts down to single events, which are dead-lettered.
    pub(super) async fn write_isolating(
        &mut self,
        reason: String,
        abort: &CancellationToken,
    ) -> Result<BatchOutcome, ProjectError> {
        let mut total = BatchOutcome::default();
        let mut refused = Vec::new();
        let mut parts = Vec::new();
        match self.batch.len() {
            1 => refused.push((0, reason)),
            n => parts.extend([n / 2..n, 0..n / 2]),
        }
        while let Some(part) = parts.pop() {
            match self.write_part(part.clone(), abort).await? {
                PartWrite::Stored(outcome) => total.merge(outcome),
                PartWrite::Refused(reason) if part.len() == 1 => refused.push((part.start, reason)),
                PartWrite::Refused(_) => {
                    let middle = part.start + part.len() / 2;
                    parts.push(middle..part.end);
                    parts.push(part.start..middle);
                }
            }
        }
        for (index, reason) in refused {
            let event = &self.batch[index];
            let source = &self.sources[index];
            let payload = source
                .payload
                .clone()
                .unwrap_or_else(|| serde_json::to_vec(event).unwrap_or_default());
            let letter = DeadLetter {
                stage: P::STAGE.to_owned(),
                kind: "store_rejected".to_owned(),
                reason: format!("the store refused event {}: {reason}", P::event_id(event)),
                key: source.key.clone(),
                payload,
                source: source.position,
            };
            self.dead_letter(letter).await?;
        }
        Ok(total)
    }
}
