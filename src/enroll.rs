//! Enrolment: photos of a person become face templates, one usable face per photo.

use std::path::{Path, PathBuf};

use anyhow::Context;
use sha2::{Digest, Sha256};

use crate::domain::PersonId;
use crate::store::NewTemplate;
use crate::vision::{DecodeError, FaceEngine, VisionError, decode_image};

/// Why a photo gave no template. Each is reported per photo; the other photos still count.
#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    #[error("cannot read the file: {0}")]
    Read(#[from] std::io::Error),
    #[error("not a usable image: {0}")]
    Decode(#[from] DecodeError),
    #[error("no face found")]
    NoFace,
    #[error("{0} faces found; an enrolment photo must show exactly one person")]
    SeveralFaces(usize),
    #[error("the face is {size} px high, below the minimum of {min} px for enrolment")]
    FaceTooSmall { size: u32, min: u32 },
    #[error("{0}")]
    Inference(String),
}

impl From<VisionError> for PhotoError {
    fn from(e: VisionError) -> Self {
        match e {
            VisionError::Decode(d) => PhotoError::Decode(d),
            VisionError::Inference(m) | VisionError::Panicked(m) => PhotoError::Inference(m),
        }
    }
}

/// What makes a face usable for enrolment.
#[derive(Debug, Clone, Copy)]
pub struct EnrolCriteria {
    /// Smallest box height in source pixels.
    pub min_face_px: u32,
    /// Lowest detection score.
    pub min_score: f32,
}

impl EnrolCriteria {
    pub fn from_config(v: &crate::vision::VisionConfig) -> Self {
        Self {
            min_face_px: v.min_enrol_face_px,
            min_score: v.min_enrol_score,
        }
    }
}

/// Turns one photo into a template: exactly one confident face at least `min_face_px` high.
/// Small or doubtful detections in the background do not count against the photo.
pub fn template_from_photo(
    engine: &mut FaceEngine,
    bytes: &[u8],
    source: &str,
    criteria: EnrolCriteria,
) -> Result<NewTemplate, PhotoError> {
    let image = decode_image(bytes, engine.settings().max_pixels)?;
    template_from_image(engine, &image, bytes, source, criteria)
}

/// A template from the face crop of an unknown face (the aligned face the recognizer saw, as the
/// review loop keeps it), under the same checks as a photo. The crop is framed with a margin of
/// its own size first: the detector needs some of the head's surroundings to find a face.
pub fn template_from_crop(
    engine: &mut FaceEngine,
    jpeg: &[u8],
    source: &str,
    criteria: EnrolCriteria,
) -> Result<NewTemplate, PhotoError> {
    let crop = decode_image(jpeg, engine.settings().max_pixels)?;
    let (w, h) = crop.dimensions();
    let mut framed = image::RgbImage::from_pixel(w * 2, h * 2, image::Rgb([128, 128, 128]));
    image::imageops::overlay(&mut framed, &crop, i64::from(w / 2), i64::from(h / 2));
    template_from_image(engine, &framed, jpeg, source, criteria)
}

/// The template of the one usable face of `image`; `bytes` are what it was decoded from (its
/// digest names the template, so the same photo or crop enrolled again adds nothing).
fn template_from_image(
    engine: &mut FaceEngine,
    image: &image::RgbImage,
    bytes: &[u8],
    source: &str,
    criteria: EnrolCriteria,
) -> Result<NewTemplate, PhotoError> {
    let min_face_px = criteria.min_face_px;
    let faces: Vec<_> = engine
        .detect(image)?
        .into_iter()
        .filter(|d| d.score >= criteria.min_score)
        .collect();
    let usable: Vec<_> = faces.iter().filter(|d| d.h >= min_face_px as f32).collect();
    let face = match usable.as_slice() {
        [one] => *one,
        [] => match faces.iter().map(|d| d.h).reduce(f32::max) {
            Some(size) => {
                return Err(PhotoError::FaceTooSmall {
                    size: size.round() as u32,
                    min: min_face_px,
                });
            }
            None => return Err(PhotoError::NoFace),
        },
        several => return Err(PhotoError::SeveralFaces(several.len())),
    };
    let embedding = engine.embed_face(image, face)?;
    Ok(NewTemplate {
        embedding,
        quality: face.score,
        source: source.to_owned(),
        photo_sha256: hex::encode(Sha256::digest(bytes)),
    })
}

/// The outcome for one photo.
#[derive(Debug)]
pub struct PhotoOutcome {
    pub path: PathBuf,
    pub result: Result<NewTemplate, PhotoError>,
}

/// Reads and analyses each photo of one person.
pub fn analyse_photos(
    engine: &mut FaceEngine,
    photos: &[PathBuf],
    criteria: EnrolCriteria,
    mut progress: impl FnMut(),
) -> Vec<PhotoOutcome> {
    photos
        .iter()
        .map(|path| {
            let source = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let result = std::fs::read(path)
                .map_err(PhotoError::from)
                .and_then(|bytes| template_from_photo(engine, &bytes, &source, criteria));
            progress();
            PhotoOutcome {
                path: path.clone(),
                result,
            }
        })
        .collect()
}

/// A person to enrol from a folder: id and display name from the folder's name.
#[derive(Debug, Clone)]
pub struct PersonFolder {
    pub id: PersonId,
    pub display_name: String,
    pub photos: Vec<PathBuf>,
}

pub fn is_image(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "jpg" | "jpeg" | "png" | "webp"))
}

/// Image files directly inside `dir`, sorted.
pub fn photos_in(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut photos = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_file() && is_image(&path) {
            photos.push(path);
        }
    }
    photos.sort();
    Ok(photos)
}

/// "kit_harington" → "Kit Harington".
pub fn display_name_from_folder(name: &str) -> String {
    name.split(['_', '-', ' '])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// One person per sub-folder of `dir` that holds images.
pub fn person_folders(dir: &Path) -> anyhow::Result<Vec<PersonFolder>> {
    let mut people = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if !path.is_dir() {
            continue;
        }
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        let photos = photos_in(&path)?;
        if photos.is_empty() {
            continue;
        }
        let id = PersonId::from_name(&name).with_context(|| format!("folder {}", path.display()))?;
        people.push(PersonFolder {
            id,
            display_name: display_name_from_folder(&name),
            photos,
        });
    }
    people.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(people)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names() {
        assert_eq!(display_name_from_folder("kit_harington"), "Kit Harington");
        assert_eq!(display_name_from_folder("obama"), "Obama");
        assert_eq!(display_name_from_folder("lin-manuel__miranda"), "Lin Manuel Miranda");
    }
}
