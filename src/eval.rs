//! `rollcall eval`: detection rate, leave-one-out rank-1 accuracy and distance statistics of a
//! folder-per-person photo set, and what the configured threshold accepts.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::domain::Embedding;
use crate::enroll::{is_image, photos_in};
use crate::vision::{FaceEngine, decode_image};

/// Folders with this name hold group photos, not a person.
const MULTI_FACE_FOLDER: &str = "multi";

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DistanceRange {
    pub pairs: usize,
    pub min: Option<f32>,
    pub max: Option<f32>,
    pub mean: Option<f32>,
}

impl DistanceRange {
    fn of(distances: &[f32]) -> Self {
        let min = distances.iter().copied().reduce(f32::min);
        let max = distances.iter().copied().reduce(f32::max);
        let mean = (!distances.is_empty()).then(|| distances.iter().sum::<f32>() / distances.len() as f32);
        Self {
            pairs: distances.len(),
            min,
            max,
            mean,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub model_id: String,
    /// The recognizer's metric, which every distance below is measured by.
    pub metric: crate::domain::Metric,
    pub people: usize,
    pub photos: usize,
    pub photos_with_face: usize,
    pub detection_rate: f64,
    /// Photos whose person has another photo to be found by.
    pub rank1_probes: usize,
    pub rank1_correct: usize,
    pub rank1_accuracy: f64,
    pub genuine: DistanceRange,
    pub impostor: DistanceRange,
    pub threshold: f32,
    /// Share of same-person pairs closer than the threshold.
    pub accept_rate: f64,
    /// Share of different-person pairs closer than the threshold.
    pub false_accept_rate: f64,
    pub failures: Vec<String>,
}

/// One labelled photo set: (person label, photo) pairs.
pub fn labelled_photos(dir: &Path) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder)? {
            let path = entry?.path();
            if path.is_dir() && path.file_name().is_some_and(|n| n != MULTI_FACE_FOLDER) {
                stack.push(path);
            }
        }
        let photos = photos_in(&folder)?;
        if folder != dir && !photos.is_empty() {
            let label = folder
                .strip_prefix(dir)
                .unwrap_or(&folder)
                .to_string_lossy()
                .into_owned();
            out.extend(photos.into_iter().filter(|p| is_image(p)).map(|p| (label.clone(), p)));
        }
    }
    out.sort();
    Ok(out)
}

/// The subject's embedding: the largest face in the photo.
fn subject_embedding(engine: &mut FaceEngine, path: &Path) -> Result<Embedding, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let image = decode_image(&bytes, engine.settings().max_pixels).map_err(|e| e.to_string())?;
    let faces = engine.detect(&image).map_err(|e| e.to_string())?;
    let face = faces
        .iter()
        .max_by(|a, b| (a.w * a.h).total_cmp(&(b.w * b.h)))
        .ok_or("no face found")?;
    engine.embed_face(&image, face).map_err(|e| e.to_string())
}

pub fn evaluate(engine: &mut FaceEngine, dir: &Path, threshold: f32) -> anyhow::Result<EvalReport> {
    let photos = labelled_photos(dir)?;
    anyhow::ensure!(
        !photos.is_empty(),
        "no person folders with photos under {}",
        dir.display()
    );
    let mut people: Vec<&str> = photos.iter().map(|(l, _)| l.as_str()).collect();
    people.dedup();
    let metric = engine.metric();
    let mut found: Vec<(&str, Embedding)> = Vec::new();
    let mut failures = Vec::new();
    for (label, path) in &photos {
        match subject_embedding(engine, path) {
            Ok(e) => found.push((label, e)),
            Err(e) => failures.push(format!("{}: {e}", path.display())),
        }
    }
    let (mut genuine, mut impostor) = (Vec::new(), Vec::new());
    let (mut probes, mut correct) = (0, 0);
    for (i, (label, emb)) in found.iter().enumerate() {
        let mut nearest: Option<(f32, &str)> = None;
        for (j, (other_label, other)) in found.iter().enumerate() {
            if i == j {
                continue;
            }
            let d = metric.distance(emb, other);
            if j > i {
                if label == other_label {
                    genuine.push(d)
                } else {
                    impostor.push(d)
                }
            }
            if nearest.is_none_or(|(best, _)| d < best) {
                nearest = Some((d, other_label));
            }
        }
        if found.iter().filter(|(l, _)| l == label).count() > 1 {
            probes += 1;
            correct += usize::from(nearest.is_some_and(|(_, l)| l == *label));
        }
    }
    let share = |hits: usize, all: usize| {
        if all == 0 { 0.0 } else { hits as f64 / all as f64 }
    };
    Ok(EvalReport {
        model_id: engine.model_id().to_owned(),
        metric,
        people: people.len(),
        photos: photos.len(),
        photos_with_face: found.len(),
        detection_rate: share(found.len(), photos.len()),
        rank1_probes: probes,
        rank1_correct: correct,
        rank1_accuracy: share(correct, probes),
        accept_rate: share(genuine.iter().filter(|d| **d < threshold).count(), genuine.len()),
        false_accept_rate: share(impostor.iter().filter(|d| **d < threshold).count(), impostor.len()),
        genuine: DistanceRange::of(&genuine),
        impostor: DistanceRange::of(&impostor),
        threshold,
        failures,
    })
}

impl EvalReport {
    pub fn render(&self) -> String {
        let range = |r: &DistanceRange| match (r.min, r.max, r.mean) {
            (Some(min), Some(max), Some(mean)) => {
                format!("{min:.3} – {max:.3} (mean {mean:.3}, {} pairs)", r.pairs)
            }
            _ => "no pairs".into(),
        };
        let mut out = format!(
            "model            {}\npeople           {}\nphotos           {}\ndetection rate   {:.1} % ({} of {})\nrank-1 (LOO)     {:.1} % ({} of {} probes)\nmetric           {:?}\ngenuine          {}\nimpostor         {}\nat threshold {:.2}: accept {:.1} % of genuine pairs, false-accept {:.2} % of impostor pairs\n",
            self.model_id,
            self.people,
            self.photos,
            self.detection_rate * 100.0,
            self.photos_with_face,
            self.photos,
            self.rank1_accuracy * 100.0,
            self.rank1_correct,
            self.rank1_probes,
            self.metric,
            range(&self.genuine),
            range(&self.impostor),
            self.threshold,
            self.accept_rate * 100.0,
            self.false_accept_rate * 100.0,
        );
        for f in &self.failures {
            out.push_str(&format!("failed: {f}\n"));
        }
        out
    }
}
