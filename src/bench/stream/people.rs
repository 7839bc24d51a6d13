//! The people of the synthesised streams, from a folder-per-person photo set: those with two
//! usable photos are enrolled from one and pass the cameras with the other; those with one are
//! strangers who were never enrolled.

use std::collections::BTreeMap;
use std::path::Path;

use image::RgbImage;

use super::scene::Sprite;
use crate::domain::{Embedding, PersonId};
use crate::eval::labelled_photos;
use crate::recognize::{Gallery, Template};
use crate::vision::{Detection, FaceEngine, align_face, decode_image};

pub struct Person {
    pub id: PersonId,
    /// The enrolled template; `None` for a stranger.
    pub template: Option<Embedding>,
    pub sprite: Sprite,
}

/// Each person of the set with a usable face, in label order.
pub fn prepare(engine: &mut FaceEngine, faces: &Path) -> anyhow::Result<Vec<Person>> {
    let mut by_label: BTreeMap<String, Vec<(RgbImage, Detection)>> = BTreeMap::new();
    for (label, path) in labelled_photos(faces)? {
        let Ok(image) = decode_image(&std::fs::read(&path)?, engine.settings().max_pixels) else {
            continue;
        };
        // The largest face: the photo's subject.
        let Some(face) = engine.detect(&image)?.into_iter().max_by(|a, b| a.h.total_cmp(&b.h)) else {
            continue;
        };
        if face.h >= 40.0 {
            by_label.entry(label).or_default().push((image, face));
        }
    }
    let mut people = Vec::new();
    for (label, photos) in by_label {
        let id = PersonId::from_name(label.rsplit('/').next().unwrap_or(&label))?;
        let (template, walking) = match photos.as_slice() {
            [only] => (None, only),
            [enrol, walking, ..] => {
                let chip = align_face(&enrol.0, &enrol.1.landmarks, engine.chip());
                let embedding = engine.embedder().embed(std::slice::from_ref(&chip))?.pop();
                (embedding, walking)
            }
            [] => continue,
        };
        people.push(Person {
            id,
            template,
            sprite: sprite(&walking.0, &walking.1),
        });
    }
    anyhow::ensure!(
        people.iter().any(|p| p.template.is_some()) && people.iter().any(|p| p.template.is_none()),
        "{} needs people with two photos (enrolled) and people with one (strangers)",
        faces.display()
    );
    Ok(people)
}

pub fn gallery(people: &[Person]) -> Gallery {
    Gallery::new(
        people
            .iter()
            .filter_map(|p| {
                p.template.clone().map(|embedding| Template {
                    person: p.id.clone(),
                    embedding,
                })
            })
            .collect(),
    )
}

/// A square around the face, 2.4 times its height (head, hair and some shoulders), clipped to
/// the photo.
pub fn sprite(photo: &RgbImage, face: &Detection) -> Sprite {
    let side = (face.h * 2.4).min(photo.width() as f32).min(photo.height() as f32);
    let (cx, cy) = (face.x + face.w / 2.0, face.y + face.h / 2.0);
    let left = (cx - side / 2.0).clamp(0.0, photo.width() as f32 - side);
    let top = (cy - side * 0.45).clamp(0.0, photo.height() as f32 - side);
    let side_px = side as u32;
    let image = image::imageops::crop_imm(photo, left as u32, top as u32, side_px, side_px).to_image();
    Sprite {
        image,
        face_centre: ((cx - left) / side, (cy - top) / side),
        face_height: face.h / side,
    }
}
