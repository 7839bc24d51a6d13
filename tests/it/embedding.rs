//! The Rust embedding of a fixed face chip against the value ONNX Runtime gives from Python
//! (`scripts/reference/embedding_fixture.py`, stored in `tests/fixtures/reference_embedding.json`).

use ndarray::Array4;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::support::*;

#[derive(Deserialize)]
struct Reference {
    photo: String,
    k: usize,
    x: usize,
    y: usize,
    model_sha256: String,
    chip_f32_hwc_sha256: String,
    embedding: Vec<f32>,
    embedding_batch_of_2_second: Vec<f32>,
}

/// The chip exactly as the fixture script builds it: exact f32 block means, then a 150x150 window (HWC).
fn chip(reference: &Reference) -> Vec<f32> {
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

fn to_nchw(chips: &[&[f32]]) -> Array4<f32> {
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

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[test]
fn embedding_matches_the_python_onnxruntime_reference() {
    let text = std::fs::read_to_string(repo().join("tests/fixtures/reference_embedding.json")).unwrap();
    let reference: Reference = serde_json::from_str(&text).unwrap();
    let model = repo().join(".rollcall/models/dlib_face_recognition_resnet_model_v1.onnx");
    assert_eq!(
        rollcall::models::sha256_file(&model).unwrap(),
        reference.model_sha256,
        "not the reference's model"
    );

    let chip = chip(&reference);
    let bytes: Vec<u8> = chip.iter().flat_map(|v| v.to_le_bytes()).collect();
    assert_eq!(
        hex::encode(Sha256::digest(&bytes)),
        reference.chip_f32_hwc_sha256,
        "the chip differs from Python's"
    );

    let mut engine = engine();
    let single = engine.embedder().embed_tensor(&to_nchw(&[&chip])).unwrap();
    let diff = max_abs_diff(single[0].values(), &reference.embedding);
    assert!(diff <= 1e-4, "single: max |rust - python| = {diff}");

    // In a batch, next to a different face (the mirrored chip), the values must not move.
    let mirrored: Vec<f32> = chip
        .chunks_exact(150 * 3)
        .flat_map(|row| row.chunks_exact(3).rev().flatten().copied().collect::<Vec<_>>())
        .collect();
    let batch = engine.embedder().embed_tensor(&to_nchw(&[&mirrored, &chip])).unwrap();
    let diff = max_abs_diff(batch[1].values(), &reference.embedding_batch_of_2_second);
    assert!(diff <= 1e-4, "batch: max |rust - python| = {diff}");
    assert!(
        max_abs_diff(batch[0].values(), batch[1].values()) > 1e-3,
        "the mirrored face must embed differently"
    );
}
