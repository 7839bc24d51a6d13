//! The shared photo set in `../shared/faces`: paths, bytes, labels, links into camera folders, and
//! images made for the tests (a faceless PNG, camera-resolution JPEGs).

use std::path::{Path, PathBuf};

use rollcall::domain::PersonId;

use super::repo;

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

/// The bytes of a photo of the set.
pub fn photo(relative: &str) -> Vec<u8> {
    std::fs::read(face(relative)).unwrap()
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

/// Links `target` into `dir` under `name` (the photos stay in ../shared).
pub fn link(target: &Path, dir: &Path, name: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::os::unix::fs::symlink(target, dir.join(name)).unwrap();
}

/// A camera folder with the given photos (and raw files) in order.
pub fn camera_folder(work: &Path, id: &str, photos: &[&str]) {
    let dir = work.join("cameras").join(id);
    for (i, photo) in photos.iter().enumerate() {
        link(&face(photo), &dir, &format!("{i}.jpg"));
    }
}

/// A PNG with no face in it: a smooth colour gradient.
pub fn faceless_png(path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let img = image::RgbImage::from_fn(320, 240, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 128]));
    img.save(path).unwrap();
}

/// The photo at camera resolution (at most 480 px), as a JPEG of a few tens of KB: librdkafka's
/// mock cluster keeps about 5 MB per partition and silently drops older messages, as a real
/// broker's retention would.
pub fn small_jpeg(path: &Path) -> Vec<u8> {
    let image = image::open(path).unwrap().thumbnail(400, 400).to_rgb8();
    let mut out = std::io::Cursor::new(Vec::new());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80)
        .encode_image(&image)
        .unwrap();
    out.into_inner()
}
