//! The cooldown: a person seen again by the same camera within the window emits no new event;
//! and its ledger in the store, which keeps suppression exact across restarts and rebalances.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use crate::domain::{AttendanceEvent, CameraId, PersonId};
use crate::retry::Backoff;
use crate::store::Store;

/// Suppresses repeats of a person at a camera within the cooldown, by frame time, so the
/// decision does not depend on how fast frames are processed.
#[derive(Debug)]
pub struct Cooldown {
    window: TimeDelta,
    last: HashMap<(CameraId, PersonId), DateTime<Utc>>,
}

impl Cooldown {
    pub fn new(window: TimeDelta) -> Self {
        Self {
            window,
            last: HashMap::new(),
        }
    }

    /// True when an event should be emitted, and records it.
    pub fn admit(&mut self, camera: &CameraId, person: &PersonId, at: DateTime<Utc>) -> bool {
        let key = (camera.clone(), person.clone());
        if let Some(prev) = self.last.get(&key) {
            // Frames can come slightly out of order across a camera restart; only a later
            // sighting beyond the window counts again.
            if at < *prev + self.window {
                return false;
            }
        }
        self.last.insert(key, at);
        if self.last.len() > 100_000 {
            self.last.retain(|_, seen| at - *seen < self.window);
        }
        true
    }

    /// Takes in an emission recorded elsewhere (the ledger); the later time wins.
    pub fn restore(&mut self, camera: &CameraId, person: &PersonId, at: DateTime<Utc>) {
        let last = self.last.entry((camera.clone(), person.clone())).or_insert(at);
        *last = (*last).max(at);
    }

    pub fn forget_all(&mut self) {
        self.last.clear();
    }

    pub fn window(&self) -> TimeDelta {
        self.window
    }
}

/// Keeps the cooldown right across restarts and rebalances, through the store.
///
/// Suppression depends on what a camera emitted before, and a recognizer that restarts, or
/// takes a partition over from another worker, has not seen that. So before its first frame of
/// a camera (and again whenever a partition's offsets jump, because then someone else may have
/// worked on it) a worker loads what the camera's earlier frames emitted. Where that comes from
/// depends on what survives a crash:
///
/// - Over Kafka an acknowledged event is durable, and the frames topic is read again from the
///   committed offset. Every emission is recorded in the ledger table once acknowledged (before
///   the frame's offset is stored), and all recent ones are loaded: a redone frame finds its own
///   emission and is suppressed, and every later frame meets the state of an uninterrupted run
///   (frame times only grow within a camera).
/// - Over the in-process bus an acknowledged event is only in memory until the projector stores
///   it, and the cameras are read again from their start (a folder from its first file; a live
///   camera from its next frame). There the stored attendance events are the record: what the
///   camera's frames before this one emitted and the store kept. A replayed frame then emits
///   its event again (the same id, which the projector drops), a lost one is emitted again, and
///   a live camera's person seen just before the crash stays suppressed after it.
pub(crate) struct CooldownLedger {
    store: Store,
    /// Whether the bus's acknowledgements are durable (see above).
    durable_bus: bool,
    restored: HashSet<CameraId>,
}

impl CooldownLedger {
    pub(crate) fn new(store: Store, durable_bus: bool) -> Self {
        Self {
            store,
            durable_bus,
            restored: HashSet::new(),
        }
    }

    /// Forgets what may be out of date: a partition was rewound or handed over, so someone
    /// else may have worked on its cameras.
    pub(crate) fn rewound(&mut self, cooldown: &mut Cooldown) {
        cooldown.forget_all();
        self.restored.clear();
    }

    /// Loads the emissions of `camera` that can still suppress its frame `seq`, taken at `at`.
    pub(crate) async fn restore(&mut self, camera: &CameraId, seq: u64, at: DateTime<Utc>, cooldown: &mut Cooldown) {
        if self.restored.contains(camera) {
            return;
        }
        let since = at - cooldown.window();
        let store = &self.store;
        let emissions = if self.durable_bus {
            retry_store("loading cooldowns", || store.emissions_since(camera, since)).await
        } else {
            retry_store("loading cooldowns", || {
                store.stored_emissions_before(camera, seq, since)
            })
            .await
        };
        for (person, emitted_at) in emissions {
            cooldown.restore(camera, &person, emitted_at);
        }
        self.restored.insert(camera.clone());
    }

    pub(crate) async fn record(&self, events: &[AttendanceEvent]) {
        if !self.durable_bus || events.is_empty() {
            return;
        }
        let emitted: Vec<_> = events
            .iter()
            .map(|e| (e.camera_id.clone(), e.person_id.clone(), e.seen_at))
            .collect();
        retry_store("recording cooldowns", || self.store.record_emissions(&emitted)).await;
    }
}

/// Retries a store call until it succeeds: a database outage must hold frames back, not let
/// them through with a cooldown that forgot what was emitted.
pub(crate) async fn retry_store<T, F, Fut>(what: &str, mut call: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, sea_orm::DbErr>>,
{
    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));
    loop {
        match call().await {
            Ok(value) => return value,
            Err(e) => {
                let delay = backoff.next_delay();
                tracing::warn!(error = %e, retry_in = ?delay, "{what} failed; retrying");
                tokio::time::sleep(delay).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cooldown_suppresses_within_window_per_camera_and_person() {
        let mut c = Cooldown::new(TimeDelta::seconds(60));
        let (door, hall) = (CameraId::parse("door").unwrap(), CameraId::parse("hall").unwrap());
        let (a, b) = (PersonId::parse("a").unwrap(), PersonId::parse("b").unwrap());
        let t0: DateTime<Utc> = "2026-11-22T08:00:00Z".parse().unwrap();
        assert!(c.admit(&door, &a, t0));
        assert!(!c.admit(&door, &a, t0 + TimeDelta::seconds(59)));
        assert!(c.admit(&hall, &a, t0 + TimeDelta::seconds(1)));
        assert!(c.admit(&door, &b, t0 + TimeDelta::seconds(1)));
        assert!(c.admit(&door, &a, t0 + TimeDelta::seconds(60)));
        assert!(
            !c.admit(&door, &a, t0 + TimeDelta::seconds(30)),
            "an older frame after a newer one is still a repeat"
        );
    }
}
