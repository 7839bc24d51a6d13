//! Model files for the tests: the download cache for upstream archives, and a site's own
//! recognizer (a stand-in built from dlib's model) with its model card and configuration.

use std::path::{Path, PathBuf};

use rollcall::config::Config;
use rollcall::domain::Metric;
use rollcall::models::{AlignmentTemplate, ColourOrder, ModelRole, ModelSpec, NamedTemplate, RecognizerCard};

use super::{config, repo};

/// Where downloads are kept between runs (the 100 MB PyPI archive is fetched once per machine).
pub fn download_cache() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache"));
    base.join("rollcall/upstream")
}

/// Cosine distance that the default L2 threshold of 0.55 corresponds to (cosine ≈ 0.93).
pub const COSINE_THRESHOLD: f32 = 0.07;

/// Builds the stand-in model into `dir`; returns its path and sha256.
pub fn site_model(dir: &Path) -> (PathBuf, String) {
    let model = dir.join("site_recognizer.onnx");
    let dlib = repo().join(".rollcall/models/dlib_face_recognition_resnet_model_v1.onnx");
    let status = std::process::Command::new("python3")
        .arg(repo().join("tests/fixtures/site_recognizer.py"))
        .arg(&dlib)
        .arg(&model)
        .status()
        .expect("python3 runs");
    assert!(
        status.success(),
        "building the site model (needs the onnx package: scripts/test installs it)"
    );
    let sha256 = rollcall::models::sha256_file(&model).unwrap();
    (model, sha256)
}

/// The stand-in's card: what a site writes about its model.
pub fn site_card() -> RecognizerCard {
    RecognizerCard {
        input: "data".into(),
        output: "fc1".into(),
        input_size: 112,
        colour: ColourOrder::Bgr,
        mean: [127.5; 3],
        std: [127.5; 3],
        // The stand-in scales its chip up to dlib's 150 px, so dlib's template scaled to 112 fits it.
        template: AlignmentTemplate::Named(NamedTemplate::Dlib),
        metric: Metric::Cosine,
        dimension: 128,
    }
}

/// The default configuration with the stand-in as the recognizer under `card`.
pub fn site_config(work: &Path, model: &Path, sha256: &str, card: RecognizerCard) -> Config {
    let mut config = config(work);
    config.models.custom.push(ModelSpec {
        name: "site_resnet".into(),
        role: ModelRole::Recognizer,
        file: model.to_str().unwrap().into(),
        bytes: None,
        sha256: sha256.into(),
        licence: "the site's own".into(),
        source: "tests/fixtures/site_recognizer.py".into(),
        card: Some(card),
    });
    config.models.recognizer = "site_resnet".into();
    config.matching.threshold = COSINE_THRESHOLD;
    config
}
