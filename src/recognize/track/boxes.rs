//! Face boxes in motion: a constant-velocity prediction per track and the association of a
//! frame's detections with the tracks (SORT's idea, greedy and deterministic).

/// A box in frame pixels: left, top, width, height.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoxF {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
}

impl BoxF {
    pub fn iou(&self, other: &BoxF) -> f32 {
        crate::vision::box_iou([self.x, self.y, self.w, self.h], [other.x, other.y, other.w, other.h])
    }

    fn centre(&self) -> (f32, f32) {
        (self.x + self.w / 2.0, self.y + self.h / 2.0)
    }

    /// Whether any of the box is inside a frame of this size.
    pub fn overlaps_frame(&self, width: u32, height: u32) -> bool {
        self.x + self.w > 0.0 && self.y + self.h > 0.0 && self.x < width as f32 && self.y < height as f32
    }
}

/// Where a track's face is and how it moves, per frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Motion {
    pub last: BoxF,
    /// Change of x, y, w and h per frame.
    velocity: [f32; 4],
}

/// How much a new measurement of the velocity counts against the old estimate.
const VELOCITY_GAIN: f32 = 0.6;

impl Motion {
    pub fn start(at: BoxF) -> Self {
        Self {
            last: at,
            velocity: [0.0; 4],
        }
    }

    /// Where the face should be `frames` frames after its last detection.
    pub fn predict(&self, frames: u32) -> BoxF {
        let k = frames as f32;
        let [vx, vy, vw, vh] = self.velocity;
        BoxF {
            x: self.last.x + vx * k,
            y: self.last.y + vy * k,
            w: (self.last.w + vw * k).max(1.0),
            h: (self.last.h + vh * k).max(1.0),
        }
    }

    /// Takes a detection `frames` frames after the last one: the detector is precise, so the box
    /// is the detection; the velocity is smoothed.
    pub fn update(&mut self, seen: BoxF, frames: u32) {
        let k = frames.max(1) as f32;
        let measured = [
            (seen.x - self.last.x) / k,
            (seen.y - self.last.y) / k,
            (seen.w - self.last.w) / k,
            (seen.h - self.last.h) / k,
        ];
        for (v, m) in self.velocity.iter_mut().zip(measured) {
            *v += VELOCITY_GAIN * (m - *v);
        }
        self.last = seen;
    }
}

/// Pairs of (track index, detection index): each track and each detection at most once, the
/// best-overlapping pairs first. A pair that does not overlap enough may still pair by centre
/// distance (a fast face whose velocity is not known yet), after every overlapping pair.
pub fn associate(predicted: &[BoxF], detections: &[BoxF], min_iou: f32) -> Vec<(usize, usize)> {
    let mut candidates: Vec<(f32, usize, usize)> = Vec::new();
    for (t, p) in predicted.iter().enumerate() {
        for (d, det) in detections.iter().enumerate() {
            let iou = p.iou(det);
            if iou >= min_iou {
                candidates.push((1.0 + iou, t, d));
                continue;
            }
            let ((px, py), (dx, dy)) = (p.centre(), det.centre());
            let distance = ((px - dx).powi(2) + (py - dy).powi(2)).sqrt();
            let size = p.w.max(p.h).max(det.w.max(det.h));
            let similar_size = (det.h / p.h).clamp(0.0, 10.0);
            if distance < 2.0 * size && (0.6..1.7).contains(&similar_size) {
                candidates.push((1.0 - distance / size, t, d));
            }
        }
    }
    // Score, then indices: the same inputs always give the same pairs.
    candidates.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let (mut used_tracks, mut used_detections) = (vec![false; predicted.len()], vec![false; detections.len()]);
    let mut pairs = Vec::new();
    for (_, t, d) in candidates {
        if !used_tracks[t] && !used_detections[d] {
            used_tracks[t] = true;
            used_detections[d] = true;
            pairs.push((t, d));
        }
    }
    // Second chance: a face that jumped (someone turning to leave, at a low frame rate) is
    // still the only face of its size that appeared where one vanished.
    let mut jumps: Vec<(f32, usize, usize)> = Vec::new();
    for (t, p) in predicted.iter().enumerate().filter(|(t, _)| !used_tracks[*t]) {
        for (d, det) in detections.iter().enumerate().filter(|(d, _)| !used_detections[*d]) {
            let ((px, py), (dx, dy)) = (p.centre(), det.centre());
            let distance = ((px - dx).powi(2) + (py - dy).powi(2)).sqrt();
            let size = p.h.max(det.h);
            if distance < JUMP_SIZES * size && (0.7..1.45).contains(&(det.h / p.h)) {
                jumps.push((distance / size, t, d));
            }
        }
    }
    jumps.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    for (_, t, d) in jumps {
        if !used_tracks[t] && !used_detections[d] {
            used_tracks[t] = true;
            used_detections[d] = true;
            pairs.push((t, d));
        }
    }
    pairs
}

/// How far, in face heights, a lost face may have jumped to a new one of its size.
const JUMP_SIZES: f32 = 4.0;

#[cfg(test)]
mod tests {
    use super::*;

    fn b(x: f32, y: f32, s: f32) -> BoxF {
        BoxF { x, y, w: s, h: s }
    }

    #[test]
    fn a_moving_face_is_predicted_along_its_velocity() {
        let mut m = Motion::start(b(100.0, 100.0, 50.0));
        m.update(b(120.0, 100.0, 50.0), 1);
        m.update(b(140.0, 100.0, 50.0), 1);
        let next = m.predict(2);
        assert!((next.x - 176.0).abs() < 3.0, "about 20 px a frame: {next:?}");
        assert_eq!(next.y, 100.0);
    }

    #[test]
    fn association_pairs_by_overlap_then_by_nearness_and_never_twice() {
        let tracks = [b(0.0, 0.0, 50.0), b(300.0, 0.0, 50.0)];
        // The second detection overlaps track 0 less than the first; the third is near track 1
        // without overlap; the fourth is far from everything.
        let detections = [
            b(5.0, 0.0, 50.0),
            b(20.0, 0.0, 50.0),
            b(340.0, 20.0, 50.0),
            b(600.0, 400.0, 50.0),
        ];
        let pairs = associate(&tracks, &detections, 0.3);
        assert_eq!(pairs, vec![(0, 0), (1, 2)]);
        // A lone face that jumped three face heights away is still its track's.
        assert_eq!(
            associate(&[b(0.0, 0.0, 50.0)], &[b(150.0, 0.0, 55.0)], 0.3),
            vec![(0, 0)]
        );
        assert!(
            associate(&[b(0.0, 0.0, 50.0)], &[b(150.0, 0.0, 100.0)], 0.3).is_empty(),
            "not of its size"
        );
        assert!(associate(&[], &detections, 0.3).is_empty());
    }
}
