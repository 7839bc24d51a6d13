//! The face engine on the installed models: templates and galleries from the shared photos,
//! people enrolled into a store, and one-off recognizer runs over frames.

use std::path::{Path, PathBuf};

use chrono::TimeDelta;
use rollcall::config::Config;
use rollcall::domain::{AttendanceEvent, Frame, PersonId};
use rollcall::enroll::{EnrolCriteria, template_from_photo};
use rollcall::recognize::{Gallery, SharedGallery, Template};
use rollcall::recognize::{RecognizeMode, RecognizeWorker, WorkerSettings, offline};
use rollcall::store::Store;
use rollcall::vision::{FaceEngine, decode_image};

use super::{config, face, person_id, person_photos};

pub fn engine() -> FaceEngine {
    let work = tempfile::tempdir().unwrap();
    FaceEngine::load(&config(work.path())).expect("models and ONNX Runtime are installed (run scripts/setup)")
}

/// The enrolment rules of the default configuration.
pub fn enrol_criteria() -> EnrolCriteria {
    EnrolCriteria::from_config(&Config::default().vision)
}

/// A template from one photo, with the enrolment rules.
pub fn template(engine: &mut FaceEngine, photo: &Path) -> rollcall::store::NewTemplate {
    template_from_photo(engine, &std::fs::read(photo).unwrap(), "test", enrol_criteria())
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

/// The largest face of each of the first `n` photos: (image, detection) pairs, found by `engine`.
pub fn faces_of(engine: &mut FaceEngine, n: usize) -> Vec<(image::RgbImage, rollcall::vision::Detection)> {
    person_photos()
        .into_iter()
        .take(n)
        .map(|(_, photo)| {
            let image = decode_image(&std::fs::read(&photo).unwrap(), u64::MAX).unwrap();
            let best = engine
                .detect(&image)
                .unwrap()
                .into_iter()
                .max_by(|a, b| (a.w * a.h).total_cmp(&(b.w * b.h)))
                .unwrap();
            (image, best)
        })
        .collect()
}

/// Enrols `person` into `store` from one photo, with the person's id as display name.
pub async fn enrol(store: &Store, config: &Config, person: &str, photo: &str) {
    enrol_named(store, &config.models.recognizer, person, person, photo).await;
}

/// Enrols `person` under `name` into `store` from one photo, for the recognizer `model`.
pub async fn enrol_named(store: &Store, model: &str, person: &str, name: &str, photo: &str) {
    let mut engine = engine();
    let t = template(&mut engine, &face(photo));
    store
        .enrol(&PersonId::parse(person).unwrap(), name, model, &[t])
        .await
        .unwrap();
}

/// Runs a fresh recognizer worker (nothing in memory) over `frames`, with its cooldown ledger in
/// `ledger` if given; returns the events it emitted.
pub async fn recognize_once(gallery: &SharedGallery, ledger: Option<&Store>, frames: &[Frame]) -> Vec<AttendanceEvent> {
    let (outputs, outbox) = offline::in_memory_outputs(frames.len() * 4);
    let settings = WorkerSettings {
        threshold: 0.55,
        cooldown: TimeDelta::seconds(5),
        mode: RecognizeMode::Frame,
        track: Default::default(),
        review_margin: 0.0,
    };
    let mut worker = RecognizeWorker::new(engine(), gallery.clone(), settings, outputs);
    if let Some(store) = ledger {
        worker = worker.with_ledger(store.clone(), true);
    }
    offline::run_over(worker, frames, || ()).await.unwrap();
    outbox.drain().await.0
}

/// Obama and Biden enrolled from their photos.
pub fn obama_and_biden() -> SharedGallery {
    let mut engine = engine();
    let templates = [
        ("obama", "face_recognition/obama/obama.jpg"),
        ("biden", "face_recognition/biden/biden.jpg"),
    ]
    .into_iter()
    .map(|(person, photo)| Template {
        person: person_id(person),
        embedding: template(&mut engine, &face(photo)).embedding,
    })
    .collect();
    SharedGallery::new(Gallery::new(templates))
}

/// The people a fresh recognizer with Obama and Biden enrolled finds in `frames`, sorted, once each.
pub async fn people_recognized(frames: &[Frame]) -> Vec<String> {
    let mut people: Vec<String> = recognize_once(&obama_and_biden(), None, frames)
        .await
        .into_iter()
        .map(|e| e.person_id.to_string())
        .collect();
    people.sort();
    people.dedup();
    people
}
