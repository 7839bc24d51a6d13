//! The Rust embedding of a fixed face chip against the value ONNX Runtime gives from Python
//! (`scripts/reference/embedding_fixture.py`, stored in `tests/fixtures/reference_embedding.json`).

use sha2::{Digest, Sha256};

use crate::helpers::*;

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
