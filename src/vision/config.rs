//! `[vision]`: decoding limits, detection sizes and thresholds, and what an enrolment photo needs.

use serde::{Deserialize, Serialize};

use crate::models::ModelsConfig;
use crate::runtime::RuntimeConfig;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VisionConfig {
    /// Images with more pixels than this are rejected before decoding (decompression bombs).
    pub max_pixels: u64,
    /// Long side, in pixels, of the image the detector sees.
    pub detect_size: u32,
    /// When nothing is found at `detect_size`, look again at this size: YuNet misses faces
    /// larger than ~300 px at input scale, which close-up photos have.
    pub detect_fallback_size: u32,
    pub score_threshold: f32,
    pub nms_iou: f32,
    /// Faces smaller than this (box height, source pixels) are not used for enrolment.
    pub min_enrol_face_px: u32,
    /// Detections scoring below this do not count as faces in an enrolment photo. Higher than
    /// `score_threshold`: YuNet scores faces in paintings and patterns at 0.6–0.75, and an
    /// enrolment photo must be unambiguous.
    pub min_enrol_score: f32,
    /// Faces smaller than this are ignored during recognition.
    pub min_face_px: u32,
    pub embed_batch: usize,
}

impl Default for VisionConfig {
    fn default() -> Self {
        Self {
            max_pixels: 40_000_000,
            detect_size: 640,
            detect_fallback_size: 320,
            score_threshold: 0.6,
            nms_iou: 0.3,
            min_enrol_face_px: 60,
            min_enrol_score: 0.8,
            min_face_px: 24,
            embed_batch: 16,
        }
    }
}

/// What loading a `FaceEngine` reads: the runtime, the models and the vision settings.
#[derive(Debug, Clone, Copy)]
pub struct EngineConfig<'a> {
    pub runtime: &'a RuntimeConfig,
    pub models: &'a ModelsConfig,
    pub vision: &'a VisionConfig,
}
