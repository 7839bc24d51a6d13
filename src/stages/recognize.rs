//! Recognize: frames in; faces detected, embedded and matched; attendance events out.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::bus::{BusError, Consumer, DeadLetter, Position, Producer, Record};
use crate::domain::{ATTENDANCE_SCHEMA_VERSION, AttendanceEvent, CameraId, Frame, PersonId, UnknownFaceEvent};
use crate::gallery::{Identity, MatchRule, SharedGallery};
use crate::stages::Backoff;
use crate::store::Store;
use crate::vision::{Face, FaceEngine, VisionError};

pub const STAGE: &str = "recognize";

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

/// Keeps the cooldown right across restarts and rebalances, through the store's ledger.
///
/// Suppression depends on what a camera emitted before, and a recognizer that restarts from the
/// committed offset, or takes a partition over from another worker, has not seen that. So every
/// emission is recorded (after the event is acknowledged, before the frame's offset is stored),
/// and a worker loads a camera's recent emissions before its first frame of that camera, and
/// again whenever a partition's offsets jump, because then someone else may have worked on it.
/// A replayed frame then finds its own earlier emission and is suppressed, and every later frame
/// meets the same state as in an uninterrupted run (frame times only grow within a camera).
struct CooldownLedger {
    store: Store,
    /// The offset each partition should deliver next if nobody else touched it.
    next_offsets: HashMap<i32, i64>,
    restored: HashSet<CameraId>,
}

impl CooldownLedger {
    /// Forgets what may be out of date when `position` is not where this worker left off.
    fn follow(&mut self, position: Position, cooldown: &mut Cooldown) {
        let expected = self.next_offsets.insert(position.partition, position.offset + 1);
        if expected.is_some_and(|next| next != position.offset) {
            tracing::info!(
                partition = position.partition,
                offset = position.offset,
                "partition rewound or handed over: reloading cooldowns from the ledger"
            );
            cooldown.forget_all();
            self.restored.clear();
        }
    }

    /// Loads `camera`'s emissions that can still suppress a frame taken at `at`.
    async fn restore(&mut self, camera: &CameraId, at: DateTime<Utc>, cooldown: &mut Cooldown) {
        if self.restored.contains(camera) {
            return;
        }
        let since = at - cooldown.window();
        let emissions = retry_store("loading cooldowns", || self.store.emissions_since(camera, since)).await;
        for (person, emitted_at) in emissions {
            cooldown.restore(camera, &person, emitted_at);
        }
        self.restored.insert(camera.clone());
    }

    async fn record(&self, events: &[AttendanceEvent]) {
        let emitted: Vec<_> = events
            .iter()
            .map(|e| (e.camera_id.clone(), e.person_id.clone(), e.seen_at))
            .collect();
        retry_store("recording cooldowns", || self.store.record_emissions(&emitted)).await;
    }
}

/// Retries a store call until it succeeds: a database outage must hold frames back, not let
/// them through with a cooldown that forgot what was emitted.
async fn retry_store<T, F, Fut>(what: &str, mut call: F) -> T
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

/// Counters of one worker.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RecognizeStats {
    pub frames: u64,
    pub faces: u64,
    pub events: u64,
    pub suppressed: u64,
    pub unknown: u64,
    pub dead_lettered: u64,
}

impl RecognizeStats {
    pub fn add(&mut self, o: &RecognizeStats) {
        self.frames += o.frames;
        self.faces += o.faces;
        self.events += o.events;
        self.suppressed += o.suppressed;
        self.unknown += o.unknown;
        self.dead_lettered += o.dead_lettered;
    }
}

/// Everything a worker sends to.
#[derive(Clone)]
pub struct RecognizeOutputs {
    pub events: Arc<dyn Producer<AttendanceEvent>>,
    pub unknown: Arc<dyn Producer<UnknownFaceEvent>>,
    pub dead_letters: Arc<dyn Producer<DeadLetter>>,
}

/// One recognizer worker with its own ONNX sessions.
pub struct RecognizeWorker {
    engine: Option<FaceEngine>,
    gallery: SharedGallery,
    rule: MatchRule,
    cooldown: Cooldown,
    ledger: Option<CooldownLedger>,
    outputs: RecognizeOutputs,
    stats: RecognizeStats,
}

/// What the matcher made of one frame.
#[derive(Debug, Default)]
pub struct FrameOutcome {
    pub events: Vec<AttendanceEvent>,
    pub unknown: Vec<UnknownFaceEvent>,
    pub suppressed: u64,
}

impl RecognizeWorker {
    /// A worker with the matching threshold and cooldown of `config`; distances are measured by
    /// the engine's recognizer metric.
    pub fn from_config(
        engine: FaceEngine,
        gallery: SharedGallery,
        config: &crate::config::Config,
        outputs: RecognizeOutputs,
    ) -> Self {
        let cooldown = TimeDelta::seconds(config.recognize.cooldown_secs as i64);
        Self::new(engine, gallery, config.matching.threshold, cooldown, outputs)
    }

    pub fn new(
        engine: FaceEngine,
        gallery: SharedGallery,
        threshold: f32,
        cooldown: TimeDelta,
        outputs: RecognizeOutputs,
    ) -> Self {
        Self {
            rule: MatchRule::new(engine.metric(), threshold),
            engine: Some(engine),
            gallery,
            cooldown: Cooldown::new(cooldown),
            ledger: None,
            outputs,
            stats: RecognizeStats::default(),
        }
    }

    /// Keeps the cooldown in `store`'s ledger, for workers that can restart or share a topic's
    /// partitions with others (not needed in one process with an in-process bus).
    pub fn with_ledger(mut self, store: Store) -> Self {
        self.ledger = Some(CooldownLedger {
            store,
            next_offsets: HashMap::new(),
            restored: HashSet::new(),
        });
        self
    }

    fn follow(&mut self, position: Position) {
        if let Some(ledger) = self.ledger.as_mut() {
            ledger.follow(position, &mut self.cooldown);
        }
    }

    /// Consumes frames until the stream ends or `stop` is cancelled; commits each frame only
    /// after its events are sent.
    pub async fn run(
        mut self,
        mut frames: Box<dyn Consumer<Frame>>,
        stop: CancellationToken,
    ) -> anyhow::Result<RecognizeStats> {
        loop {
            let next = tokio::select! {
                biased;
                _ = stop.cancelled() => break,
                next = frames.next() => next,
            };
            let record = match next {
                None => break,
                Some(Ok(record)) => record,
                Some(Err(BusError::Poison(poison))) => {
                    let position = poison.position;
                    self.follow(position);
                    self.dead_letter(DeadLetter::from_poison(STAGE, *poison)).await?;
                    frames.commit(position)?;
                    continue;
                }
                Some(Err(e)) => {
                    tracing::warn!(error = %e, "frame consumer failed; retrying");
                    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                    continue;
                }
            };
            let position = record.position;
            self.follow(position);
            let span = tracing::info_span!(
                "recognize.frame",
                camera = %record.key,
                partition = position.partition,
                offset = position.offset
            );
            crate::telemetry::context::continue_trace(&span, record.trace_parent.as_deref());
            self.process(record).instrument(span).await?;
            frames.commit(position)?;
        }
        Ok(self.stats)
    }

    async fn process(&mut self, record: Record<Frame>) -> anyhow::Result<()> {
        self.stats.frames += 1;
        let Record {
            key,
            value: frame,
            position,
            ..
        } = record;
        let metrics = crate::metrics::metrics();
        let camera = frame.camera.as_str();
        metrics.camera_seen(camera);
        metrics.recognize_frames.with_label_values(&[camera]).inc();
        let age = (Utc::now() - frame.captured_at).to_std().unwrap_or_default();
        metrics
            .recognize_frame_age
            .with_label_values(&[camera])
            .observe(age.as_secs_f64());
        let mut engine = self.engine.take().expect("engine is returned after every frame");
        let data = frame.data;
        let span = tracing::Span::current();
        // Inference is CPU-bound: run it off the async reactor.
        let (engine, data, analysed) = tokio::task::spawn_blocking(move || {
            let result = span.in_scope(|| engine.analyze_bytes(&data));
            (engine, data, result)
        })
        .await?;
        let model_id = engine.model_id().to_owned();
        self.engine = Some(engine);
        let faces = match analysed {
            Ok(faces) => faces,
            Err(e) => {
                tracing::warn!(camera = %frame.camera, seq = frame.seq, kind = e.kind(), error = %e, "frame dead-lettered");
                return self.dead_letter(frame_dead_letter(&e, key, data, position)).await;
            }
        };
        self.stats.faces += faces.len() as u64;
        metrics.recognize_faces_per_frame.observe(faces.len() as f64);
        let frame = Frame {
            data: Vec::new(),
            ..frame
        };
        if let Some(ledger) = self.ledger.as_mut() {
            ledger
                .restore(&frame.camera, frame.captured_at, &mut self.cooldown)
                .await;
        }
        let matching = std::time::Instant::now();
        let outcome =
            tracing::info_span!("match", faces = faces.len()).in_scope(|| self.match_faces(&frame, &faces, &model_id));
        let steps = &metrics.recognize_step_duration;
        steps
            .with_label_values(&["match"])
            .observe(matching.elapsed().as_secs_f64());
        self.stats.suppressed += outcome.suppressed;
        let events = |outcome: &str| {
            metrics
                .recognize_events
                .with_label_values(&[frame.camera.as_str(), outcome])
        };
        events("suppressed").inc_by(outcome.suppressed);
        for event in &outcome.events {
            let key = event.person_id.to_string();
            self.outputs.events.send(&key, event.clone()).await?;
            self.stats.events += 1;
            events("emitted").inc();
        }
        if let Some(ledger) = &self.ledger {
            ledger.record(&outcome.events).await;
        }
        tracing::debug!(
            camera = %frame.camera,
            seq = frame.seq,
            partition = position.partition,
            offset = position.offset,
            events = outcome.events.len(),
            "frame recognized"
        );
        for unknown in outcome.unknown {
            let key = unknown.camera_id.to_string();
            self.outputs.unknown.send(&key, unknown).await?;
            self.stats.unknown += 1;
        }
        Ok(())
    }

    /// Matches faces against the gallery. A person seen twice in one frame counts once, with
    /// the closer face.
    pub fn match_faces(&mut self, frame: &Frame, faces: &[Face], model_id: &str) -> FrameOutcome {
        let gallery = self.gallery.current();
        let mut best: HashMap<PersonId, (f32, &Face)> = HashMap::new();
        let mut outcome = FrameOutcome::default();
        let metrics = crate::metrics::metrics();
        let faces_seen = |outcome: &str| {
            metrics
                .recognize_faces
                .with_label_values(&[frame.camera.as_str(), outcome])
        };
        for face in faces {
            let identity = gallery.identify(&face.embedding, self.rule);
            match &identity {
                Identity::Known { distance, .. } => {
                    faces_seen("recognized").inc();
                    metrics.recognize_match_distance.observe(f64::from(*distance));
                }
                Identity::Unknown { nearest } => {
                    faces_seen("unknown").inc();
                    if let Some(nearest) = nearest {
                        metrics.recognize_unknown_distance.observe(f64::from(*nearest));
                    }
                }
            }
            match identity {
                Identity::Known { person, distance } => {
                    let entry = best.entry(person).or_insert((distance, face));
                    if distance < entry.0 {
                        *entry = (distance, face);
                    }
                }
                Identity::Unknown { nearest } => outcome.unknown.push(UnknownFaceEvent {
                    schema_version: ATTENDANCE_SCHEMA_VERSION,
                    camera_id: frame.camera.clone(),
                    frame_seq: frame.seq,
                    seen_at: frame.captured_at,
                    face_box: face.face_box(),
                    nearest_distance: nearest,
                    embedding: face.embedding.clone(),
                    model_id: model_id.to_owned(),
                }),
            }
        }
        let mut people: Vec<_> = best.into_iter().collect();
        people.sort_by(|a, b| a.0.cmp(&b.0));
        for (person, (distance, face)) in people {
            if !self.cooldown.admit(&frame.camera, &person, frame.captured_at) {
                outcome.suppressed += 1;
                continue;
            }
            let mut event = AttendanceEvent::new(
                person,
                frame.camera.clone(),
                frame.seq,
                frame.captured_at,
                distance,
                face.face_box(),
                model_id,
            );
            // A distance reads as a similarity by the recognizer's own metric.
            event.similarity = self.rule.metric.similarity(distance);
            outcome.events.push(event);
        }
        outcome
    }

    async fn dead_letter(&mut self, letter: DeadLetter) -> anyhow::Result<()> {
        self.stats.dead_lettered += 1;
        letter.count();
        self.outputs.dead_letters.send(&letter.key.clone(), letter).await?;
        Ok(())
    }
}

fn frame_dead_letter(error: &VisionError, key: String, payload: Vec<u8>, source: Position) -> DeadLetter {
    DeadLetter {
        stage: STAGE.to_owned(),
        kind: error.kind().to_owned(),
        reason: error.to_string(),
        key,
        payload,
        source,
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
