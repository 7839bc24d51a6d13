//! A recognizer worker: frames in; faces detected, embedded and matched; attendance events out.

mod ahead;
mod outcome;

use chrono::{TimeDelta, Utc};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

pub(crate) use ahead::Decoding;

use self::ahead::ReadAhead;
use super::anchors::AnchorLedger;
use super::commits::HeldCommits;
use super::cooldown::{Cooldown, CooldownLedger};
use super::gallery::{MatchRule, SharedGallery};
use super::inference::{Analysis, Inference, Judge};
use super::track::{FrameHead, RecognizeMode, TrackConfig};
use super::{RecognizeOutputs, RecognizeStats};
use crate::bus::{BusError, Consumer, DeadLetter, Position, Record};
use crate::domain::stage::RECOGNIZE;
use crate::domain::{AttendanceEvent, CameraId, Frame, UnknownFaceEvent};
use crate::store::Store;
use crate::vision::{FaceEngine, VisionError};

/// One recognizer worker with its own ONNX sessions.
pub struct RecognizeWorker {
    inference: Inference,
    gallery: SharedGallery,
    rule: MatchRule,
    /// `review.match_margin`.
    review_margin: f32,
    cooldown: Cooldown,
    ledger: Option<CooldownLedger>,
    commits: HeldCommits,
    /// Over a durable bus: the anchors written before the offsets relying on them are
    /// committed, and the positions waiting for that write.
    anchors: Option<AnchorLedger>,
    /// Track mode: frames are judged with their camera's earlier frames.
    tracking: bool,
    /// Frame mode: the next frame is decoded while the engine works on the current one.
    ahead: Option<ReadAhead>,
    held: std::collections::BTreeMap<i32, Position>,
    /// A camera without frames for this long (in capture time) holds no commit back.
    idle_after: TimeDelta,
    outputs: RecognizeOutputs,
    stats: RecognizeStats,
}

/// How a worker decides.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// Largest distance (in the engine's recognizer metric) still accepted as the same person.
    pub threshold: f32,
    /// Repeats of a person at a camera within this window emit nothing.
    pub cooldown: TimeDelta,
    pub mode: RecognizeMode,
    pub track: TrackConfig,
    /// `review.match_margin`: matches this close to the threshold also go to review.
    pub review_margin: f32,
}

/// What the matcher made of one frame.
#[derive(Debug, Default)]
pub struct FrameOutcome {
    pub events: Vec<AttendanceEvent>,
    pub unknown: Vec<UnknownFaceEvent>,
    pub suppressed: u64,
}

impl RecognizeWorker {
    pub fn new(
        engine: FaceEngine,
        gallery: SharedGallery,
        settings: WorkerSettings,
        outputs: RecognizeOutputs,
    ) -> Self {
        let rule = MatchRule::new(engine.metric(), settings.threshold);
        let idle_after = TimeDelta::milliseconds(settings.track.reference_gap_ms as i64);
        let judge = match settings.mode {
            RecognizeMode::Frame => Judge::Frames,
            RecognizeMode::Track => Judge::Tracks {
                config: settings.track,
                gallery: gallery.clone(),
                rule,
            },
        };
        let tracking = settings.mode == RecognizeMode::Track;
        // Track mode decodes a frame only when its gate asks for the detector: nothing to start ahead.
        let ahead = (!tracking).then(|| ReadAhead::new(engine.settings().max_pixels));
        Self {
            rule,
            review_margin: settings.review_margin,
            inference: Inference::start(engine, judge),
            gallery,
            cooldown: Cooldown::new(settings.cooldown),
            ledger: None,
            commits: HeldCommits::default(),
            anchors: None,
            tracking,
            ahead,
            held: Default::default(),
            idle_after,
            outputs,
            stats: RecognizeStats::default(),
        }
    }

    /// Keeps the cooldown through `store`, so that a restarted worker, or one that takes a
    /// partition over, decides what an uninterrupted one would; `durable_bus` says what
    /// survives a crash (see `CooldownLedger`).
    pub fn with_ledger(mut self, store: Store, durable_bus: bool) -> Self {
        // Frame mode keeps no state between frames: nothing to anchor.
        if durable_bus && self.tracking {
            self.anchors = Some(AnchorLedger::new(store.clone()));
        }
        self.ledger = Some(CooldownLedger::new(store, durable_bus));
        self
    }

    /// Notices a partition that did not continue where this worker left it: its cameras'
    /// tracks are forgotten, as the frames come again from the last commit.
    fn follow(&mut self, position: Position) -> anyhow::Result<()> {
        let Some(cameras) = self.commits.follow(position) else {
            return Ok(());
        };
        tracing::info!(
            partition = position.partition,
            offset = position.offset,
            "partition rewound or handed over: reloading cooldowns and restarting its cameras' tracks"
        );
        if let Some(ledger) = self.ledger.as_mut() {
            ledger.rewound(&mut self.cooldown);
        }
        if let Some(anchors) = self.anchors.as_mut() {
            anchors.forget(&cameras);
        }
        self.inference.forget(cameras)
    }

    /// Consumes frames until the stream ends or `stop` is cancelled; commits each frame only
    /// after its events are sent.
    pub async fn run(
        mut self,
        mut frames: Box<dyn Consumer<Frame>>,
        stop: CancellationToken,
    ) -> anyhow::Result<RecognizeStats> {
        loop {
            if stop.is_cancelled() {
                break;
            }
            let idle = !self.held.is_empty();
            let next = match self.ahead.as_mut().and_then(ReadAhead::take) {
                Some(next) => next,
                None => tokio::select! {
                    biased;
                    _ = stop.cancelled() => break,
                    next = frames.next() => next,
                    // Nothing new for a while: write the anchors and commit what waits for them.
                    _ = tokio::time::sleep(super::anchors::FLUSH_EVERY), if idle => {
                        self.flush_commits(frames.as_mut()).await?;
                        continue;
                    }
                },
            };
            let record = match next {
                None => {
                    self.finish().await?;
                    break;
                }
                Some(Ok(record)) => record,
                Some(Err(BusError::Poison(poison))) => {
                    let position = poison.position;
                    self.follow(position)?;
                    self.dead_letter(DeadLetter::from_poison(RECOGNIZE, *poison)).await?;
                    if let Some(safe) = self.commits.passed(position, None) {
                        self.commit(frames.as_mut(), safe).await?;
                    }
                    continue;
                }
                Some(Err(e)) => {
                    tracing::warn!(error = %e, "frame consumer failed; retrying");
                    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                    continue;
                }
            };
            let position = record.position;
            self.follow(position)?;
            if let Some(anchors) = self.anchors.as_mut()
                && anchors.already_judged(&record.value.camera, position).await
            {
                if let Some(safe) = self.commits.passed(position, None) {
                    self.commit(frames.as_mut(), safe).await?;
                }
                continue;
            }
            let span = tracing::info_span!(
                "recognize.frame",
                camera = %record.key,
                partition = position.partition,
                offset = position.offset
            );
            crate::telemetry::context::continue_trace(&span, record.trace_parent.as_deref());
            let (camera, captured_at) = (record.value.camera.clone(), record.value.captured_at);
            let ended = record.value.is_end_of_stream();
            let judged = self.process(record, frames.as_mut()).instrument(span).await?;
            // Frames after a camera's latest anchor are not committed: after a restart they
            // must come again, to be decided the same way (see `commits`).
            let safe = match judged {
                Some(_) if ended => self.commits.ended(&camera, position, self.idle_after),
                Some(anchor) if self.tracking => {
                    self.commits
                        .processed(&camera, position, captured_at, anchor, self.idle_after)
                }
                _ => self.commits.passed(position, None),
            };
            if let (Some(true), Some(anchors)) = (judged, self.anchors.as_mut()) {
                anchors.note(&camera, position);
            }
            if let Some(safe) = safe {
                self.commit(frames.as_mut(), safe).await?;
            }
        }
        self.flush_commits(frames.as_mut()).await?;
        Ok(self.stats)
    }

    /// Commits `safe`: at once over the in-process bus; over a durable one after the anchors
    /// it relies on are written, which happens a few times a second.
    async fn commit(&mut self, frames: &mut dyn Consumer<Frame>, safe: Position) -> anyhow::Result<()> {
        if self.anchors.is_none() {
            frames.commit(safe)?;
            return Ok(());
        }
        self.held.insert(safe.partition, safe);
        if self.anchors.as_ref().is_some_and(AnchorLedger::due) {
            self.flush_commits(frames).await?;
        }
        Ok(())
    }

    async fn flush_commits(&mut self, frames: &mut dyn Consumer<Frame>) -> anyhow::Result<()> {
        if let Some(anchors) = self.anchors.as_mut() {
            anchors.flush().await;
        }
        for (_, safe) in std::mem::take(&mut self.held) {
            frames.commit(safe)?;
        }
        Ok(())
    }

    /// The stream is over: open tracks are decided on what they saw.
    async fn finish(&mut self) -> anyhow::Result<()> {
        for (camera, step) in self.inference.finish().await? {
            let outcome = self.track_outcome(&camera, step);
            self.emit(&camera, outcome).await?;
        }
        Ok(())
    }

    /// Judges one frame; returns whether it was an anchor of its camera (`None`: the frame was
    /// dead-lettered and changed nothing).
    async fn process(
        &mut self,
        record: Record<Frame>,
        frames: &mut dyn Consumer<Frame>,
    ) -> anyhow::Result<Option<bool>> {
        let Record {
            key,
            value: frame,
            position,
            ..
        } = record;
        let head = FrameHead {
            camera: frame.camera.clone(),
            seq: frame.seq,
            captured_at: frame.captured_at,
        };
        let analysis = if frame.is_end_of_stream() {
            tracing::debug!(camera = %head.camera, seq = head.seq, "camera's stream ended");
            self.inference.end(head.camera.clone()).await?
        } else {
            self.stats.frames += 1;
            observe_arrival(&frame);
            let decoding = self.ahead.as_mut().and_then(|ahead| ahead.decoding(position));
            let analysing = self.inference.analyse(head.clone(), frame.data, decoding);
            let (data, analysed) = match self.ahead.as_mut() {
                Some(ahead) => ahead.overlap(analysing, frames).await?,
                None => analysing.await?,
            };
            match analysed {
                Ok(analysis) => analysis,
                Err(e) => {
                    tracing::debug!(camera = %head.camera, seq = head.seq, "frame not analysable");
                    self.dead_letter(frame_dead_letter(&e, key, data, position)).await?;
                    return Ok(None);
                }
            }
        };
        if let Some(ledger) = self.ledger.as_mut() {
            ledger
                .restore(&head.camera, head.seq, head.captured_at, &mut self.cooldown)
                .await;
        }
        let matching = std::time::Instant::now();
        let (outcome, open_tracks, anchor) = match analysis {
            Analysis::Faces(faces) => {
                self.stats.faces += faces.len() as u64;
                crate::metrics::metrics()
                    .recognize_faces_per_frame
                    .observe(faces.len() as f64);
                let outcome =
                    tracing::info_span!("match", faces = faces.len()).in_scope(|| self.match_faces(&head, &faces));
                // A frame alone decides everything in frame mode.
                (outcome, 0, true)
            }
            Analysis::Tracks(step) => {
                let (open, anchor) = (step.open_tracks, step.anchor);
                (self.track_outcome(&head.camera, step), open, anchor)
            }
        };
        crate::metrics::metrics()
            .recognize_step_duration
            .with_label_values(&["match"])
            .observe(matching.elapsed().as_secs_f64());
        tracing::debug!(
            camera = %head.camera,
            seq = head.seq,
            partition = position.partition,
            offset = position.offset,
            events = outcome.events.len(),
            open_tracks,
            "frame recognized"
        );
        self.emit(&head.camera, outcome).await?;
        Ok(Some(anchor))
    }

    /// Sends a frame's events and unknown faces, then records the emissions in the ledger.
    async fn emit(&mut self, camera: &CameraId, outcome: FrameOutcome) -> anyhow::Result<()> {
        let metrics = crate::metrics::metrics();
        self.stats.suppressed += outcome.suppressed;
        let events = |outcome: &str| metrics.recognize_events.with_label_values(&[camera.as_str(), outcome]);
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
