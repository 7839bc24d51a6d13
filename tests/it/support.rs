//! Helpers shared by the integration tests: paths, configuration, engines and galleries.

use std::path::{Path, PathBuf};

use rollcall::config::Config;
use rollcall::domain::PersonId;
use rollcall::enroll::{EnrolCriteria, template_from_photo};
use rollcall::gallery::{Gallery, Template};
use rollcall::vision::FaceEngine;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shared photo set. Missing photos fail the test loudly: CI must have them.
pub fn faces() -> PathBuf {
    let dir = std::env::var_os("ROLLCALL_FACES")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared/faces"));
    assert!(
        dir.is_dir(),
        "the test photos are missing: expected {} (set ROLLCALL_FACES)",
        dir.display()
    );
    dir
}

pub fn face(relative: &str) -> PathBuf {
    let path = faces().join(relative);
    assert!(path.is_file(), "missing test photo {}", path.display());
    path
}

/// Default configuration with the runtime and models installed by `scripts/setup`, and the
/// store and cameras inside `work` so that tests do not share state.
pub fn config(work: &Path) -> Config {
    let mut config = Config::with_home(&repo().join(".rollcall"));
    config.store.url = format!("sqlite://{}?mode=rwc", work.join("rollcall.db").display());
    config.ingest.cameras_dir = work.join("cameras");
    config
}

pub fn engine() -> FaceEngine {
    let work = tempfile::tempdir().unwrap();
    FaceEngine::load(&config(work.path())).expect("models and ONNX Runtime are installed (run scripts/setup)")
}

/// (person label, photo) for every photo in a person folder, `multi/` left out.
pub fn person_photos() -> Vec<(String, PathBuf)> {
    let photos = rollcall::eval::labelled_photos(&faces()).unwrap();
    assert!(
        photos.len() >= 20,
        "expected the shared photo set, found {} photos",
        photos.len()
    );
    photos
}

pub fn person_id(label: &str) -> PersonId {
    PersonId::from_name(Path::new(label).file_name().unwrap().to_str().unwrap()).unwrap()
}

/// A template from one photo, with the enrolment rules.
pub fn template(engine: &mut FaceEngine, photo: &Path) -> rollcall::store::NewTemplate {
    let criteria = EnrolCriteria::from_config(&Config::default().vision);
    template_from_photo(engine, &std::fs::read(photo).unwrap(), "test", criteria)
        .unwrap_or_else(|e| panic!("{}: {e}", photo.display()))
}

/// A gallery of everyone with two or more photos, from all photos but the last; returns the
/// held-out (person, photo) pairs too.
pub fn gallery_with_held_out(engine: &mut FaceEngine) -> (Gallery, Vec<(PersonId, PathBuf)>) {
    let photos = person_photos();
    let mut templates = Vec::new();
    let mut held_out = Vec::new();
    let mut labels: Vec<&String> = photos.iter().map(|(l, _)| l).collect();
    labels.dedup();
    for label in labels {
        let own: Vec<&PathBuf> = photos.iter().filter(|(l, _)| l == label).map(|(_, p)| p).collect();
        if own.len() < 2 {
            continue;
        }
        let person = person_id(label);
        for photo in &own[..own.len() - 1] {
            templates.push(Template {
                person: person.clone(),
                embedding: template(engine, photo).embedding,
            });
        }
        held_out.push((person, own[own.len() - 1].clone()));
    }
    (Gallery::new(templates), held_out)
}

/// Links `target` into `dir` under `name` (the photos stay in ../shared).
pub fn link(target: &Path, dir: &Path, name: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::os::unix::fs::symlink(target, dir.join(name)).unwrap();
}

/// The rollcall binary, with its store and cameras in `work`.
pub fn rollcall(work: &Path) -> std::process::Command {
    let config = config(work);
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_rollcall"));
    cmd.current_dir(repo())
        .env("ROLLCALL__STORE__URL", &config.store.url)
        .env("ROLLCALL__INGEST__CAMERAS_DIR", &config.ingest.cameras_dir)
        .env_remove("ROLLCALL_CONFIG")
        .env("RUST_LOG", "warn");
    cmd
}

/// A PNG with no face in it: a smooth colour gradient.
pub fn faceless_png(path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let img = image::RgbImage::from_fn(320, 240, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 128]));
    img.save(path).unwrap();
}

/// An HTTP client for the tests (TLS through the same provider as the binary's clients).
pub fn http_client() -> reqwest::Client {
    rollcall::http::install_tls_provider();
    reqwest::Client::new()
}

/// A TCP port free on 127.0.0.1 a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
