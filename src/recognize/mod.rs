//! Recognize: frames in; faces detected, embedded and matched against the enrolled gallery;
//! attendance events out, with repeats suppressed by the cooldown.

mod anchors;
mod commits;
mod cooldown;
pub mod gallery;
mod inference;
pub mod offline;
pub mod track;
mod watch;
mod worker;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::bus::{DeadLetter, Producer};
use crate::domain::{AttendanceEvent, UnknownFaceEvent};

pub use cooldown::Cooldown;
pub use gallery::{Gallery, GalleryBuilder, INDEXED_FROM, Identity, MatchRule, RERANKED, SharedGallery, Template};
pub use track::{RecognizeMode, TrackConfig};
pub use watch::{keep_gallery_current, load_gallery, subscribe_to_gallery_changes};
pub use worker::{FrameOutcome, RecognizeWorker, WorkerSettings};

/// `[recognize]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RecognizeConfig {
    /// Recognizer workers, each with its own ONNX sessions.
    pub workers: usize,
    /// A person seen again by the same camera within this many seconds emits no new event.
    pub cooldown_secs: u64,
    /// `track` (default): faces followed across a camera's frames and decided once per track;
    /// `frame`: every frame detected, embedded and matched on its own.
    pub mode: RecognizeMode,
    pub track: TrackConfig,
}

impl Default for RecognizeConfig {
    fn default() -> Self {
        Self {
            workers: 2,
            cooldown_secs: 60,
            mode: RecognizeMode::default(),
            track: TrackConfig::default(),
        }
    }
}

/// `[matching]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MatchingConfig {
    /// Largest distance (in the recognizer's metric) still accepted as the same person.
    pub threshold: f32,
}

impl Default for MatchingConfig {
    fn default() -> Self {
        Self { threshold: 0.55 }
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
