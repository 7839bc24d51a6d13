//! The reference embedding computed by ONNX Runtime from Python
//! (`scripts/reference/embedding_fixture.py`): the fixture, and the chip built exactly as there.

use ndarray::Array4;
use serde::Deserialize;

use super::face;

/// The reference embedding made in Python (`tests/fixtures/reference_embedding.json`).
#[derive(Deserialize)]
pub struct Reference {
    pub photo: String,
    pub k: usize,
    pub x: usize,
    pub y: usize,
    pub model_sha256: String,
    pub chip_f32_hwc_sha256: String,
    pub embedding: Vec<f32>,
    pub embedding_batch_of_2_second: Vec<f32>,
}

/// The chip exactly as the fixture script builds it: exact f32 block means, then a 150x150 window (HWC).
pub fn chip(reference: &Reference) -> Vec<f32> {
    let rgb = image::open(face(&reference.photo)).unwrap().into_rgb8();
    let k = reference.k;
    let (w, h) = (rgb.width() as usize / k, rgb.height() as usize / k);
    let mut small = vec![0f32; w * h * 3];
    for r in 0..h {
        for c in 0..w {
            for ch in 0..3 {
                let mut sum: i64 = 0;
                for dy in 0..k {
                    for dx in 0..k {
                        sum += i64::from(rgb.get_pixel((c * k + dx) as u32, (r * k + dy) as u32)[ch]);
                    }
                }
                small[(r * w + c) * 3 + ch] = sum as f32 / (k * k) as f32;
            }
        }
    }
    let mut out = Vec::with_capacity(150 * 150 * 3);
    for r in reference.y..reference.y + 150 {
        out.extend_from_slice(&small[(r * w + reference.x) * 3..(r * w + reference.x + 150) * 3]);
    }
    out
}

/// Chips (HWC) as one NCHW tensor.
pub fn to_nchw(chips: &[&[f32]]) -> Array4<f32> {
    let mut t = Array4::<f32>::zeros((chips.len(), 3, 150, 150));
    for (n, chip) in chips.iter().enumerate() {
        for (i, px) in chip.chunks_exact(3).enumerate() {
            for ch in 0..3 {
                t[[n, ch, i / 150, i % 150]] = px[ch];
            }
        }
    }
    t
}
