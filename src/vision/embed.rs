//! The recognizer: batches of aligned chips in, embeddings out, shaped as its model card says.

use image::RgbImage;
use ndarray::Array4;
use ort::session::Session;
use ort::value::TensorRef;

use super::VisionError;
use crate::domain::Embedding;
use crate::models::{ColourOrder, RecognizerCard};

/// Packs chips as the model wants them: NCHW, in the card's colour order, `(pixel - mean) / std`
/// per channel. For dlib that is RGB 0–255 unchanged (its graph normalises by itself).
pub fn chips_to_tensor(chips: &[RgbImage], card: &RecognizerCard) -> Array4<f32> {
    let side = card.input_size as usize;
    let plane = side * side;
    // Which chip channel feeds each of the model's channels.
    let from = match card.colour {
        ColourOrder::Rgb => [0, 1, 2],
        ColourOrder::Bgr => [2, 1, 0],
    };
    let scale = card.std.map(|s| 1.0 / s);
    let mut data = vec![0.0f32; chips.len() * 3 * plane];
    for (chip, out) in chips.iter().zip(data.chunks_exact_mut(3 * plane)) {
        for (i, p) in chip.as_raw().chunks_exact(3).enumerate().take(plane) {
            for c in 0..3 {
                out[c * plane + i] = (f32::from(p[from[c]]) - card.mean[c]) * scale[c];
            }
        }
    }
    Array4::from_shape_vec((chips.len(), 3, side, side), data).expect("the buffer has 3 planes per chip")
}

pub struct Embedder {
    session: Session,
    card: RecognizerCard,
    max_batch: usize,
}

impl Embedder {
    /// Checks the model against its card: the tensor names must exist, and one blank chip must go
    /// through and come out with the card's dimension. A card that does not fit its model thus
    /// fails when the worker starts, not on the first face.
    pub fn open(session: Session, card: RecognizerCard, max_batch: usize) -> Result<Self, VisionError> {
        let names = |outlets: &[ort::value::Outlet]| outlets.iter().map(|o| o.name().to_owned()).collect::<Vec<_>>();
        let (inputs, outputs) = (names(session.inputs()), names(session.outputs()));
        if !inputs.contains(&card.input) {
            return Err(VisionError::Inference(format!(
                "the model card names the input `{}`, but the model's inputs are: {}",
                card.input,
                inputs.join(", ")
            )));
        }
        if !outputs.contains(&card.output) {
            return Err(VisionError::Inference(format!(
                "the model card names the output `{}`, but the model's outputs are: {}",
                card.output,
                outputs.join(", ")
            )));
        }
        let mut embedder = Self {
            session,
            card,
            max_batch: max_batch.max(1),
        };
        let side = embedder.card.input_size;
        embedder
            .embed(&[RgbImage::new(side, side)])
            .map_err(|e| VisionError::Inference(format!("a blank {side}×{side} chip, as the model card says: {e}")))?;
        Ok(embedder)
    }

    pub fn card(&self) -> &RecognizerCard {
        &self.card
    }

    /// One embedding per chip, in order.
    pub fn embed(&mut self, chips: &[RgbImage]) -> Result<Vec<Embedding>, VisionError> {
        let mut out = Vec::with_capacity(chips.len());
        for batch in chips.chunks(self.max_batch) {
            let tensor = chips_to_tensor(batch, &self.card);
            out.extend(self.embed_tensor(&tensor)?);
        }
        Ok(out)
    }

    /// Runs the model on a prepared NCHW tensor of shape [N, 3, side, side].
    pub fn embed_tensor(&mut self, tensor: &Array4<f32>) -> Result<Vec<Embedding>, VisionError> {
        let n = tensor.shape()[0];
        if n == 0 {
            return Ok(Vec::new());
        }
        let card = &self.card;
        let input = TensorRef::from_array_view(tensor).map_err(VisionError::inference)?;
        let outputs = self
            .session
            .run(ort::inputs![card.input.as_str() => input])
            .map_err(VisionError::inference)?;
        let value = outputs
            .get(&card.output)
            .ok_or_else(|| VisionError::Inference(format!("recognizer has no output `{}`", card.output)))?;
        let (_, data) = value.try_extract_tensor::<f32>().map_err(VisionError::inference)?;
        if data.len() != n * card.dimension {
            return Err(VisionError::Inference(format!(
                "recognizer returned {} values for {n} faces; its model card says {} each",
                data.len(),
                card.dimension
            )));
        }
        data.chunks_exact(card.dimension)
            .map(|v| Embedding::new(v.to_vec()).map_err(|e| VisionError::Inference(e.to_string())))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use image::Rgb;

    use super::*;

    #[test]
    fn chips_are_packed_in_the_card_s_colour_order_and_normalisation() {
        let chip = RgbImage::from_pixel(16, 16, Rgb([10, 20, 30]));
        let mut card = RecognizerCard::dlib();
        card.input_size = 16;
        let rgb = chips_to_tensor(std::slice::from_ref(&chip), &card);
        assert_eq!(
            [rgb[[0, 0, 3, 3]], rgb[[0, 1, 3, 3]], rgb[[0, 2, 3, 3]]],
            [10.0, 20.0, 30.0]
        );
        card.colour = ColourOrder::Bgr;
        card.mean = [127.5; 3];
        card.std = [127.5; 3];
        let bgr = chips_to_tensor(std::slice::from_ref(&chip), &card);
        let got = [bgr[[0, 0, 0, 0]], bgr[[0, 1, 0, 0]], bgr[[0, 2, 0, 0]]];
        for (got, pixel) in got.into_iter().zip([30.0, 20.0, 10.0]) {
            assert!((got - (pixel - 127.5) / 127.5).abs() < 1e-6, "{got} from {pixel}");
        }
    }
}
