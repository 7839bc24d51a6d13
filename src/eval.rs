//! `rollcall eval`: detection rate, leave-one-out rank-1 accuracy and distance statistics of a
//! folder-per-person photo set, what the configured threshold accepts, the true-accept rate at
//! fixed false-accept rates, and how often a person nobody enrolled is taken for someone else.

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
    /// The true-accept rate at a false-accept rate of 1e-2, 1e-3 and 1e-4, with the threshold
    /// that gives each.
    pub tar_at_far: Vec<OperatingPoint>,
    /// Each person left out of the gallery in turn: how many of their photos the rest of the
    /// gallery accepts as someone else at the threshold.
    pub open_set: OpenSet,
    pub failures: Vec<String>,
}

/// The false-accept rates `tar_at_far` reports.
pub const FAR_TARGETS: [f64; 3] = [1e-2, 1e-3, 1e-4];

/// A threshold chosen for a false-accept rate, and what it accepts.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct OperatingPoint {
    pub far_target: f64,
    /// The largest threshold (accepting distances below it) whose false-accept rate is at most
    /// the target; none when the set has fewer than 1 / target impostor pairs, too few to tell.
    pub threshold: Option<f32>,
    /// The false-accept rate measured at that threshold.
    pub far: Option<f64>,
    /// The share of genuine pairs accepted at that threshold.
    pub tar: Option<f64>,
}

/// People left out of the gallery in turn, each of their photos matched against everyone else.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct OpenSet {
    pub probes: usize,
    /// Photos whose nearest other person is within the threshold.
    pub accepted_as_someone_else: usize,
    pub rate: f64,
}

/// The operating point for `far_target`: impostor pairs are sorted, and the threshold is the
/// distance of the first one a false-accept budget of `far_target` no longer covers.
pub fn operating_point(genuine: &[f32], impostor: &[f32], far_target: f64) -> OperatingPoint {
    let unresolved = OperatingPoint {
        far_target,
        threshold: None,
        far: None,
        tar: None,
    };
    if impostor.is_empty() || (impostor.len() as f64) < 1.0 / far_target {
        return unresolved;
    }
    let mut sorted = impostor.to_vec();
    sorted.sort_by(f32::total_cmp);
    let allowed = (far_target * sorted.len() as f64).floor() as usize;
    let threshold = sorted[allowed.min(sorted.len() - 1)];
    let below = |d: &[f32]| d.iter().filter(|x| **x < threshold).count();
    OperatingPoint {
        far_target,
        threshold: Some(threshold),
        far: Some(below(impostor) as f64 / impostor.len() as f64),
        tar: (!genuine.is_empty()).then(|| below(genuine) as f64 / genuine.len() as f64),
    }
}

/// Each person's photos against the gallery of everyone else: how many are accepted.
fn open_set(found: &[(&str, Embedding)], metric: crate::domain::Metric, threshold: f32) -> OpenSet {
    let mut accepted = 0;
    for (label, embedding) in found {
        let nearest_other = found
            .iter()
            .filter(|(other, _)| other != label)
            .map(|(_, e)| metric.distance(embedding, e))
            .reduce(f32::min);
        accepted += usize::from(nearest_other.is_some_and(|d| d < threshold));
    }
    OpenSet {
        probes: found.len(),
        accepted_as_someone_else: accepted,
        rate: if found.is_empty() {
            0.0
        } else {
            accepted as f64 / found.len() as f64
        },
    }
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
pub(crate) fn subject_embedding(engine: &mut FaceEngine, path: &Path) -> Result<Embedding, String> {
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
        tar_at_far: FAR_TARGETS
            .iter()
            .map(|f| operating_point(&genuine, &impostor, *f))
            .collect(),
        open_set: open_set(&found, metric, threshold),
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
        for p in &self.tar_at_far {
            match (p.threshold, p.tar, p.far) {
                (Some(t), Some(tar), Some(far)) => out.push_str(&format!(
                    "TAR at FAR {:.0e}: {:.1} % at threshold {t:.3} (measured FAR {:.3} %)\n",
                    p.far_target,
                    tar * 100.0,
                    far * 100.0
                )),
                _ => out.push_str(&format!(
                    "TAR at FAR {:.0e}: not measurable: {} impostor pairs, at least {:.0} needed\n",
                    p.far_target,
                    self.impostor.pairs,
                    1.0 / p.far_target
                )),
            }
        }
        out.push_str(&format!(
            "open set at {:.2}: {:.1} % of photos taken for someone else with their own person left out ({} of {})\n",
            self.threshold,
            self.open_set.rate * 100.0,
            self.open_set.accepted_as_someone_else,
            self.open_set.probes
        ));
        for f in &self.failures {
            out.push_str(&format!("failed: {f}\n"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_threshold_for_a_false_accept_rate_admits_at_most_that_share_of_impostors() {
        let impostor: Vec<f32> = (0..200).map(|i| 0.5 + i as f32 / 1000.0).collect();
        let genuine = [0.30, 0.45, 0.50, 0.501, 0.70];
        let p = operating_point(&genuine, &impostor, 1e-2);
        // Two of 200 impostor pairs may pass: those at 0.500 and 0.501; the threshold is the third.
        assert_eq!(p.threshold, Some(impostor[2]));
        assert_eq!(p.far, Some(2.0 / 200.0));
        assert_eq!(p.tar, Some(4.0 / 5.0));
        let too_few = operating_point(&genuine, &impostor, 1e-3);
        assert_eq!(
            (too_few.threshold, too_few.tar),
            (None, None),
            "200 pairs cannot show 1e-3"
        );
    }
}
