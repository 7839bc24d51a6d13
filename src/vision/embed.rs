//! The dlib ResNet descriptor: batches of aligned chips in, 128-d embeddings out.

use image::RgbImage;
use ndarray::Array4;
use ort::session::Session;
use ort::value::TensorRef;

use super::VisionError;
use super::align::CHIP_SIZE;
use crate::domain::{EMBEDDING_DIM, Embedding};

/// Packs chips as the model wants them: NCHW, RGB, 0–255 (the graph normalises by itself).
pub fn chips_to_tensor(chips: &[RgbImage]) -> Array4<f32> {
    let side = CHIP_SIZE as usize;
    let plane = side * side;
    let mut data = vec![0.0f32; chips.len() * 3 * plane];
    for (chip, out) in chips.iter().zip(data.chunks_exact_mut(3 * plane)) {
        for (i, p) in chip.as_raw().chunks_exact(3).enumerate().take(plane) {
            out[i] = f32::from(p[0]);
            out[plane + i] = f32::from(p[1]);
            out[2 * plane + i] = f32::from(p[2]);
        }
    }
    Array4::from_shape_vec((chips.len(), 3, side, side), data).expect("the buffer has 3 planes per chip")
}

pub struct Embedder {
    session: Session,
    max_batch: usize,
}

impl Embedder {
    pub fn new(session: Session, max_batch: usize) -> Self {
        Self {
            session,
            max_batch: max_batch.max(1),
        }
    }

    /// One embedding per chip, in order.
    pub fn embed(&mut self, chips: &[RgbImage]) -> Result<Vec<Embedding>, VisionError> {
        let mut out = Vec::with_capacity(chips.len());
        for batch in chips.chunks(self.max_batch) {
            out.extend(self.embed_tensor(&chips_to_tensor(batch))?);
        }
        Ok(out)
    }

    /// Runs the model on a prepared NCHW tensor of shape [N, 3, 150, 150].
    pub fn embed_tensor(&mut self, tensor: &Array4<f32>) -> Result<Vec<Embedding>, VisionError> {
        let n = tensor.shape()[0];
        if n == 0 {
            return Ok(Vec::new());
        }
        let input = TensorRef::from_array_view(tensor).map_err(VisionError::inference)?;
        let outputs = self
            .session
            .run(ort::inputs!["image" => input])
            .map_err(VisionError::inference)?;
        let value = outputs
            .get("embedding")
            .ok_or_else(|| VisionError::Inference("recognizer has no output `embedding`".into()))?;
        let (_, data) = value.try_extract_tensor::<f32>().map_err(VisionError::inference)?;
        if data.len() != n * EMBEDDING_DIM {
            return Err(VisionError::Inference(format!(
                "recognizer returned {} values for {n} faces",
                data.len()
            )));
        }
        data.chunks_exact(EMBEDDING_DIM)
            .map(|v| Embedding::new(v.to_vec()).map_err(|e| VisionError::Inference(e.to_string())))
            .collect()
    }
}
