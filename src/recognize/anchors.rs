//! Anchors kept durable (over Kafka): where each camera's frames must be read again from after a
//! restart, and which frames a restarted worker skips because a predecessor already judged them
//! (see `commits`).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::cooldown::retry_store;
use crate::bus::Position;
use crate::domain::CameraId;
use crate::store::Store;

/// How often anchors are written (and the offsets relying on them committed): a restart reads
/// at most this much more again; it never changes a decision.
pub(crate) const FLUSH_EVERY: Duration = Duration::from_millis(250);

pub(crate) struct AnchorLedger {
    store: Store,
    /// Anchors not yet written.
    pending: HashMap<CameraId, Position>,
    /// Recorded anchors read since the camera's state was last forgotten.
    loaded: HashMap<CameraId, Option<Position>>,
    last_flush: Instant,
}

impl AnchorLedger {
    pub(crate) fn new(store: Store) -> Self {
        Self {
            store,
            pending: HashMap::new(),
            loaded: HashMap::new(),
            last_flush: Instant::now(),
        }
    }

    /// Whether the frame at `position` comes before the camera's recorded anchor: a predecessor
    /// judged it and emitted what it decided; judging it again from an empty state could
    /// decide differently.
    pub(crate) async fn already_judged(&mut self, camera: &CameraId, position: Position) -> bool {
        let anchor = match self.loaded.get(camera) {
            Some(anchor) => *anchor,
            None => {
                let store = &self.store;
                let anchor = retry_store("loading the camera's anchor", || store.anchor_of(camera)).await;
                self.loaded.insert(camera.clone(), anchor);
                anchor
            }
        };
        anchor.is_some_and(|a| a.partition == position.partition && position.offset < a.offset)
    }

    pub(crate) fn note(&mut self, camera: &CameraId, position: Position) {
        self.pending.insert(camera.clone(), position);
        self.loaded.insert(camera.clone(), Some(position));
    }

    /// The cameras' states were forgotten: their anchors are read again before their next frame.
    pub(crate) fn forget(&mut self, cameras: &[CameraId]) {
        for camera in cameras {
            self.loaded.remove(camera);
        }
    }

    /// Whether it is time to write the anchors and commit.
    pub(crate) fn due(&self) -> bool {
        self.last_flush.elapsed() >= FLUSH_EVERY
    }

    /// Writes the pending anchors; offsets that rely on them may be committed afterwards.
    pub(crate) async fn flush(&mut self) {
        let anchors: Vec<(CameraId, Position)> = self.pending.drain().collect();
        let store = &self.store;
        retry_store("recording anchors", || store.record_anchors(&anchors)).await;
        self.last_flush = Instant::now();
    }
}
