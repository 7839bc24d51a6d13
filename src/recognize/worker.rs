//! A recognizer worker: frames in; faces detected, embedded and matched; attendance events out.

use std::collections::HashMap;

use chrono::{TimeDelta, Utc};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::cooldown::{Cooldown, CooldownLedger};
use super::gallery::{Identity, MatchRule, SharedGallery};
use super::{RecognizeOutputs, RecognizeStats};
use crate::bus::{BusError, Consumer, DeadLetter, Position, Record};
use crate::domain::stage::RECOGNIZE;
use crate::domain::{ATTENDANCE_SCHEMA_VERSION, AttendanceEvent, Frame, PersonId, UnknownFaceEvent};
use crate::store::Store;
use crate::vision::{Face, FaceEngine, VisionError};

/// One recognizer worker with its own ONNX sessions.
pub struct RecognizeWorker {
    inference: Inference,
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
    /// A worker matching at `threshold` (in the engine's recognizer metric) and suppressing
    /// repeats within `cooldown`.
    pub fn new(
        engine: FaceEngine,
        gallery: SharedGallery,
        threshold: f32,
        cooldown: TimeDelta,
        outputs: RecognizeOutputs,
    ) -> Self {
        Self {
            rule: MatchRule::new(engine.metric(), threshold),
            inference: Inference::start(engine),
            gallery,
            cooldown: Cooldown::new(cooldown),
            ledger: None,
            outputs,
            stats: RecognizeStats::default(),
        }
    }

    /// Keeps the cooldown through `store`, so that a restarted worker, or one that takes a
    /// partition over, decides what an uninterrupted one would; `durable_bus` says what
    /// survives a crash (see `CooldownLedger`).
    pub fn with_ledger(mut self, store: Store, durable_bus: bool) -> Self {
        self.ledger = Some(CooldownLedger::new(store, durable_bus));
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
                    self.dead_letter(DeadLetter::from_poison(RECOGNIZE, *poison)).await?;
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
        observe_arrival(&frame);
        let (data, analysed, model_id) = self.analyse(frame.data).await?;
        let faces = match analysed {
            Ok(faces) => faces,
            Err(e) => {
                tracing::debug!(camera = %frame.camera, seq = frame.seq, "frame not analysable");
                return self.dead_letter(frame_dead_letter(&e, key, data, position)).await;
            }
        };
        self.stats.faces += faces.len() as u64;
        crate::metrics::metrics()
            .recognize_faces_per_frame
            .observe(faces.len() as f64);
        let frame = Frame {
            data: Vec::new(),
            ..frame
        };
        if let Some(ledger) = self.ledger.as_mut() {
            ledger
                .restore(&frame.camera, frame.seq, frame.captured_at, &mut self.cooldown)
                .await;
        }
        let matching = std::time::Instant::now();
        let outcome =
            tracing::info_span!("match", faces = faces.len()).in_scope(|| self.match_faces(&frame, &faces, &model_id));
        crate::metrics::metrics()
            .recognize_step_duration
            .with_label_values(&["match"])
            .observe(matching.elapsed().as_secs_f64());
        tracing::debug!(
            camera = %frame.camera,
            seq = frame.seq,
            partition = position.partition,
            offset = position.offset,
            events = outcome.events.len(),
            "frame recognized"
        );
        self.emit(&frame, outcome).await
    }

    /// Runs the engine on a frame's bytes on the worker's inference thread (inference is
    /// CPU-bound: never on the async reactor); gives the bytes back for a dead letter.
    async fn analyse(&mut self, data: Vec<u8>) -> anyhow::Result<(Vec<u8>, Result<Vec<Face>, VisionError>, String)> {
        let (data, analysed) = self.inference.analyse(data).await?;
        Ok((data, analysed, self.inference.model_id.clone()))
    }

    /// Sends a frame's events and unknown faces, then records the emissions in the ledger.
    async fn emit(&mut self, frame: &Frame, outcome: FrameOutcome) -> anyhow::Result<()> {
        let metrics = crate::metrics::metrics();
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
        letter.emit();
        self.outputs.dead_letters.send(&letter.key.clone(), letter).await?;
        Ok(())
    }
}

fn frame_dead_letter(error: &VisionError, key: String, payload: Vec<u8>, source: Position) -> DeadLetter {
    DeadLetter {
        stage: RECOGNIZE.to_owned(),
        kind: error.kind().to_owned(),
        reason: error.to_string(),
        key,
        payload,
        source,
    }
}

/// Counts a frame's arrival and how old it is by then.
fn observe_arrival(frame: &Frame) {
    let metrics = crate::metrics::metrics();
    let camera = frame.camera.as_str();
    metrics.camera_seen(camera);
    metrics.recognize_frames.with_label_values(&[camera]).inc();
    let age = (Utc::now() - frame.captured_at).to_std().unwrap_or_default();
    metrics
        .recognize_frame_age
        .with_label_values(&[camera])
        .observe(age.as_secs_f64());
}

/// A frame's bytes, the span to run in, and where the answer goes.
type Job = (
    Vec<u8>,
    tracing::Span,
    tokio::sync::oneshot::Sender<(Vec<u8>, Result<Vec<Face>, VisionError>)>,
);

/// The worker's engine on a thread of its own for the worker's life: one thread per worker
/// keeps its caches warm and costs no hand-off to a pool per frame.
struct Inference {
    jobs: std::sync::mpsc::Sender<Job>,
    model_id: String,
}

impl Inference {
    fn start(mut engine: FaceEngine) -> Self {
        let model_id = engine.model_id().to_owned();
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("rollcall-inference".into())
            .spawn(move || {
                // Ends when the worker, and with it the sender, is dropped.
                for (data, span, answer) in queue {
                    let result = span.in_scope(|| engine.analyze_bytes(&data));
                    let _ = answer.send((data, result));
                }
            })
            .expect("starting an inference thread");
        Self { jobs, model_id }
    }

    async fn analyse(&self, data: Vec<u8>) -> anyhow::Result<(Vec<u8>, Result<Vec<Face>, VisionError>)> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.jobs
            .send((data, tracing::Span::current(), answer))
            .map_err(|_| anyhow::anyhow!("the inference thread stopped"))?;
        answered
            .await
            .map_err(|_| anyhow::anyhow!("the inference thread stopped"))
    }
}
