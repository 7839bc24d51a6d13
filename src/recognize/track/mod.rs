//! Track-first recognition: each camera's faces followed across its frames, embedded when a
//! good face shows and decided once per track. Every decision is a function of the camera's
//! frames alone (counted in frames, never in wall-clock time), so a replay gives the same events.

mod boxes;
pub(crate) mod camera;
mod decide;
mod motion;
mod quality;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use camera::{CameraTracks, StepContext};
pub use decide::DecisionRule;

use crate::domain::{CameraId, Embedding, FaceBox, PersonId};

/// How the recognizer judges frames (`recognize.mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecognizeMode {
    /// Faces followed as tracks, embedded and decided once per track.
    #[default]
    Track,
    /// Every frame detected, embedded and matched on its own.
    Frame,
}

/// `[recognize.track]`: the motion gate, the tracker and the decision rule. Counts are in
/// frames of one camera.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrackConfig {
    /// A thumbnail pixel counts as changed when its brightness moved by more than this (0–255).
    pub pixel_delta: u8,
    /// A frame has motion when more than this share of its thumbnail changed.
    pub motion_share: f32,
    /// When at least this share changed, the frame is another scene: its tracks all end.
    pub scene_cut_share: f32,
    /// The previous frame is the motion reference only if captured at most this many
    /// milliseconds apart; otherwise the frame is judged as a camera's first.
    pub reference_gap_ms: u64,
    /// Without motion, the detector still runs once in this many frames (a person standing still).
    pub force_detect_every: u32,
    /// While tracks are open and the scene moves, the detector runs once in this many frames;
    /// tracks coast on their motion in between.
    pub detect_every: u32,
    /// Least overlap of a predicted box and a detection for them to be the same face.
    pub min_iou: f32,
    /// A track ends after this many detections in a row without its face.
    pub max_misses: u32,
    /// A track ends after this many frames whatever happens, so that a camera always comes back
    /// to a state without tracks (where a restart can resume).
    pub max_track_frames: u32,
    /// Embeddings per track at most.
    pub max_embeddings: usize,
    /// Least quality (size × score × frontality × sharpness, 0–1) of a face worth embedding.
    pub min_quality: f32,
    /// A track is embedded again for a face this many times better than its best so far…
    pub better_by: f32,
    /// …or, while undecided, for one at least 0.8 times as good after this many detections.
    pub reembed_after: u32,
    /// Embeddings that must agree before an open track is decided.
    pub agree: usize,
    /// One embedding this close decides an open track at once.
    pub sure_distance: f32,
    /// How much nearer the chosen person must be than the second-nearest person.
    pub margin: f32,
}

impl Default for TrackConfig {
    fn default() -> Self {
        let rule = DecisionRule::default();
        Self {
            pixel_delta: 12,
            motion_share: 0.002,
            scene_cut_share: 0.5,
            reference_gap_ms: 10_000,
            force_detect_every: 30,
            detect_every: 2,
            min_iou: 0.3,
            max_misses: 2,
            max_track_frames: 300,
            max_embeddings: 3,
            min_quality: 0.15,
            better_by: 1.25,
            reembed_after: 2,
            agree: rule.agree,
            sure_distance: rule.sure_distance,
            margin: rule.margin,
        }
    }
}

impl TrackConfig {
    pub fn rule(&self) -> DecisionRule {
        DecisionRule {
            agree: self.agree,
            sure_distance: self.sure_distance,
            margin: self.margin,
        }
    }
}

/// The frame a step works on, without its bytes.
#[derive(Debug, Clone)]
pub struct FrameHead {
    pub camera: CameraId,
    pub seq: u64,
    pub captured_at: DateTime<Utc>,
}

/// A track found to be a person. `first_seq` and `first_at` are the track's first frame: the
/// event's id derives from it, so the same frames give the same id.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackDecision {
    pub person: PersonId,
    pub first_seq: u64,
    pub first_at: DateTime<Utc>,
    pub distance: f32,
    pub face_box: FaceBox,
    /// The track's best face, should the match be doubtful enough to review.
    pub best_face: Option<ReviewFace>,
}

/// A track's best face as review shows it and as a negative example would keep it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewFace {
    pub face_box: FaceBox,
    pub embedding: Embedding,
    /// The face aligned (encoded only if the match goes to review).
    pub chip: image::RgbImage,
}

/// A track that ended as nobody in the gallery, with its best face.
#[derive(Debug, Clone)]
pub struct UnknownTrack {
    pub first_seq: u64,
    pub first_at: DateTime<Utc>,
    pub face_box: FaceBox,
    pub nearest_distance: Option<f32>,
    pub embedding: Embedding,
    /// The best face aligned, as a JPEG.
    pub crop_jpeg: Vec<u8>,
}

/// What one frame did to a camera's tracks.
#[derive(Debug, Default)]
pub struct TrackStep {
    /// Whether the detector ran on this frame.
    pub detected: bool,
    /// Whether the detector ran with no track open: the camera's state after this frame is a
    /// function of this frame alone.
    pub anchor: bool,
    pub faces: usize,
    pub embedded: usize,
    pub decisions: Vec<TrackDecision>,
    pub unknown: Vec<UnknownTrack>,
    /// Tracks that ended without ever showing a usable face.
    pub faceless: usize,
    /// Tracks still open after this frame; 0 is a quiescent point of the camera.
    pub open_tracks: usize,
    /// The camera's stream ended here: no frame was looked at.
    pub ended: bool,
}

impl TrackStep {
    /// The end of a camera's stream, which leaves the camera with nothing open.
    pub fn end() -> Self {
        Self {
            anchor: true,
            ended: true,
            ..Self::default()
        }
    }
}

/// The tracks of every camera a worker sees.
#[derive(Default)]
pub struct Tracking {
    cameras: HashMap<CameraId, CameraTracks>,
}

impl Tracking {
    pub fn camera(&mut self, camera: &CameraId) -> &mut CameraTracks {
        self.cameras.entry(camera.clone()).or_default()
    }

    /// Forgets these cameras' state: their frames will come again from a quiescent point.
    pub fn forget(&mut self, cameras: &[CameraId]) {
        for camera in cameras {
            self.cameras.remove(camera);
        }
    }

    /// Ends one camera's stream: its open tracks are decided and its state dropped, so that the
    /// camera is quiescent (an anchor) after its end-of-stream marker.
    pub fn end(&mut self, camera: &CameraId, config: &TrackConfig) -> TrackStep {
        self.cameras
            .remove(camera)
            .map_or_else(TrackStep::end, |mut tracks| tracks.finish(config))
    }

    /// Ends every camera's open tracks, cameras in id order (the stream is over).
    pub fn finish(&mut self, config: &TrackConfig) -> Vec<(CameraId, TrackStep)> {
        let mut cameras: Vec<_> = self.cameras.iter_mut().collect();
        cameras.sort_by(|a, b| a.0.cmp(b.0));
        cameras
            .into_iter()
            .map(|(camera, tracks)| (camera.clone(), tracks.finish(config)))
            .collect()
    }
}
