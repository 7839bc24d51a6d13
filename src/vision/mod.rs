//! Face analysis: decode an image, detect faces (YuNet), align them and compute embeddings.

mod align;
mod config;
mod decode;
mod detect;
mod embed;
mod pool;
mod resize;

use std::path::Path;

use image::RgbImage;
use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;

pub use align::{Chip, Similarity, align_face, box_downscale};
pub use config::{EngineConfig, VisionConfig};
pub use decode::{DecodeError, decode_image};
pub use detect::{Detection, Detector, box_iou, non_maximum_suppression, prepare_input};
pub use embed::{Embedder, chips_to_tensor};
pub use pool::{AnalysisPanicked, EnginePool, panic_message};

use crate::domain::{Embedding, FaceBox, Metric};
use crate::models::{self, ModelRole};

/// Failures inside face analysis.
#[derive(Debug, thiserror::Error)]
pub enum VisionError {
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error("inference failed: {0}")]
    Inference(String),
    /// Decoding or inference panicked on these bytes (a bug in a decoder or a model runtime):
    /// the frame is set aside, the worker goes on.
    #[error("analysis panicked: {0}")]
    Panicked(String),
}

impl VisionError {
    pub(crate) fn inference(e: impl std::fmt::Display) -> Self {
        VisionError::Inference(e.to_string())
    }

    /// A short stable name, for dead-letter headers and metric labels.
    pub fn kind(&self) -> &'static str {
        match self {
            VisionError::Decode(e) => e.kind(),
            VisionError::Inference(_) => "inference",
            VisionError::Panicked(_) => "analysis_panicked",
        }
    }
}

/// A face found in an image, with its embedding.
#[derive(Debug, Clone)]
pub struct Face {
    pub detection: Detection,
    pub embedding: Embedding,
}

impl Face {
    pub fn face_box(&self) -> FaceBox {
        let d = &self.detection;
        FaceBox {
            x: d.x.round() as i32,
            y: d.y.round() as i32,
            w: d.w.round() as i32,
            h: d.h.round() as i32,
        }
    }
}

/// Tunables of one analysis, taken from `VisionConfig`.
#[derive(Debug, Clone)]
pub struct AnalysisSettings {
    pub max_pixels: u64,
    pub detect_size: u32,
    pub detect_fallback_size: u32,
    pub score_threshold: f32,
    pub nms_iou: f32,
    pub min_face_px: u32,
}

/// Detector and recognizer sessions of one worker. Not shared: ONNX sessions run one call at a time.
pub struct FaceEngine {
    detector: Detector,
    embedder: Embedder,
    chip: Chip,
    model_id: String,
    settings: AnalysisSettings,
}

fn session(env_lib: &Path, model: &Path, threads: usize) -> anyhow::Result<Session> {
    let env = crate::runtime::environment(env_lib)?;
    let mut builder = Session::builder(env)
        .map_err(|e| anyhow::anyhow!("creating an ONNX session: {e}"))?
        .with_optimization_level(GraphOptimizationLevel::Level3)
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .with_intra_threads(threads)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    builder
        .commit_from_file(model)
        .map_err(|e| anyhow::anyhow!("loading model {}: {e}", model.display()))
}

impl FaceEngine {
    /// Verifies the configured models and opens a session for each.
    pub fn load<'a>(config: impl Into<EngineConfig<'a>>) -> anyhow::Result<Self> {
        let config = config.into();
        let custom = &config.models.custom;
        let detector_spec = models::resolve(custom, &config.models.detector, ModelRole::Detector)?;
        let recognizer_spec = models::resolve(custom, &config.models.recognizer, ModelRole::Recognizer)?;
        let card = recognizer_spec.recognizer_card()?.clone();
        let detector_path = detector_spec.verified_path(&config.models.dir)?;
        let recognizer_path = recognizer_spec.verified_path(&config.models.dir)?;
        let lib = &config.runtime.onnxruntime_lib;
        let threads = config.runtime.intra_threads;
        let v = &config.vision;
        let detector = Detector::new(session(lib, &detector_path, threads)?);
        let chip = Chip::of(&card);
        let embedder = Embedder::open(session(lib, &recognizer_path, threads)?, card, v.embed_batch)
            .map_err(|e| anyhow::anyhow!("recognizer {}: {e}", recognizer_spec.name))?;
        let loaded = &crate::metrics::metrics().vision_model_loaded;
        loaded.with_label_values(&["detector", &detector_spec.name]).set(1);
        loaded.with_label_values(&["recognizer", &recognizer_spec.name]).set(1);
        Ok(Self {
            detector,
            embedder,
            chip,
            model_id: recognizer_spec.name,
            settings: AnalysisSettings {
                max_pixels: v.max_pixels,
                detect_size: v.detect_size,
                detect_fallback_size: v.detect_fallback_size,
                score_threshold: v.score_threshold,
                nms_iou: v.nms_iou,
                min_face_px: v.min_face_px,
            },
        })
    }

    /// The recognizer's id, stored with every template and event: embeddings of different models never mix.
    pub fn model_id(&self) -> &str {
        &self.model_id
    }

    /// How this recognizer's embeddings are compared.
    pub fn metric(&self) -> Metric {
        self.embedder.card().metric
    }

    /// The chip the recognizer wants faces aligned into.
    pub fn chip(&self) -> &Chip {
        &self.chip
    }

    /// Aligns one detected face and computes its embedding.
    pub fn embed_face(&mut self, image: &RgbImage, detection: &Detection) -> Result<Embedding, VisionError> {
        let chip = align_face(image, &detection.landmarks, &self.chip);
        self.embedder
            .embed(std::slice::from_ref(&chip))?
            .pop()
            .ok_or_else(|| VisionError::Inference("the recognizer returned no embedding".into()))
    }

    pub fn settings(&self) -> &AnalysisSettings {
        &self.settings
    }

    pub fn embedder(&mut self) -> &mut Embedder {
        &mut self.embedder
    }

    /// Faces found with the detector input's long side at `long_side`.
    pub fn detect_at(&mut self, image: &RgbImage, long_side: u32) -> Result<Vec<Detection>, VisionError> {
        let s = &self.settings;
        self.detector.detect(image, long_side, s.score_threshold, s.nms_iou)
    }

    /// Faces at the configured size, or at the fallback size when none were found (close-ups).
    pub fn detect(&mut self, image: &RgbImage) -> Result<Vec<Detection>, VisionError> {
        let s = &self.settings;
        let found = self
            .detector
            .detect(image, s.detect_size, s.score_threshold, s.nms_iou)?;
        if !found.is_empty() || s.detect_fallback_size == s.detect_size {
            return Ok(found);
        }
        self.detector
            .detect(image, s.detect_fallback_size, s.score_threshold, s.nms_iou)
    }

    /// Detects, aligns and embeds every face of at least `min_face_px`, best detection first.
    /// Each step is timed (`rollcall_recognize_step_duration_seconds`) and traced.
    pub fn analyze(&mut self, image: &RgbImage) -> Result<Vec<Face>, VisionError> {
        let min = self.settings.min_face_px as f32;
        let detections: Vec<Detection> = timed("detect", || self.detect(image))?
            .into_iter()
            .filter(|d| d.h >= min && d.w >= min)
            .collect();
        let chips: Vec<RgbImage> = timed("align", || {
            let chip = &self.chip;
            Ok::<_, VisionError>(
                detections
                    .iter()
                    .map(|d| align_face(image, &d.landmarks, chip))
                    .collect(),
            )
        })?;
        let embeddings = timed("embed", || self.embedder.embed(&chips))?;
        Ok(detections
            .into_iter()
            .zip(embeddings)
            .map(|(detection, embedding)| Face { detection, embedding })
            .collect())
    }

    /// Decodes `bytes` (with the pixel limit) and analyses the image.
    pub fn analyze_bytes(&mut self, bytes: &[u8]) -> Result<Vec<Face>, VisionError> {
        let image = decode_frame(bytes, self.settings.max_pixels)?;
        self.analyze(&image)
    }
}

/// Decodes a frame as the engine does, timed as its `decode` step: also run apart from the
/// engine, on another thread, by a worker that decodes its next frame ahead.
pub fn decode_frame(bytes: &[u8], max_pixels: u64) -> Result<RgbImage, DecodeError> {
    timed("decode", || decode_image(bytes, max_pixels))
}

/// Runs one step of the analysis inside its span and records its latency.
fn timed<T>(step: &'static str, work: impl FnOnce() -> T) -> T {
    let _span = tracing::info_span!("vision", otel.name = step).entered();
    let started = std::time::Instant::now();
    let result = work();
    crate::metrics::metrics()
        .recognize_step_duration
        .with_label_values(&[step])
        .observe(started.elapsed().as_secs_f64());
    result
}
