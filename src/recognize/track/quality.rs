//! How good a face is for an embedding: size, detector score, a frontal pose read from the
//! landmarks, and sharpness of the aligned chip; and whether a face is still where it was.

use image::RgbImage;

use crate::vision::Detection;

/// The face height past which a bigger face adds nothing: the recognizer's chip is 150 px.
const FULL_SIZE_PX: f32 = 112.0;

/// Variance of the Laplacian of a sharp aligned chip; blurrier chips score in proportion.
const SHARP_VARIANCE: f32 = 300.0;

/// Geometric quality of a detection in [0, 1], before any pixel is looked at: size × score ×
/// frontality. `min_face_px` and below scores 0.
pub fn geometric(detection: &Detection, min_face_px: f32) -> f32 {
    if detection.h < min_face_px || detection.w < min_face_px {
        return 0.0;
    }
    let size = (detection.h / FULL_SIZE_PX).min(1.0);
    size * detection.score.clamp(0.0, 1.0) * frontality(&detection.landmarks)
}

/// 1 for a face looking at the camera, falling to 0 as the head turns (the nose moves towards
/// one eye) or tilts (the eyes are no longer level).
pub fn frontality(landmarks: &[[f32; 2]; 5]) -> f32 {
    let [right_eye, left_eye, nose, _, _] = landmarks;
    let eye_distance = ((left_eye[0] - right_eye[0]).powi(2) + (left_eye[1] - right_eye[1]).powi(2)).sqrt();
    if eye_distance < 1.0 {
        return 0.0;
    }
    let mid_x = (left_eye[0] + right_eye[0]) / 2.0;
    let yaw = ((nose[0] - mid_x) / eye_distance).abs();
    let roll = ((left_eye[1] - right_eye[1]) / eye_distance).abs();
    ((1.0 - 2.0 * yaw) * (1.0 - roll)).clamp(0.0, 1.0)
}

/// Sharpness of an aligned chip in [0, 1]: the variance of its grey Laplacian, against that of
/// a sharp face. Motion blur lowers it.
pub fn sharpness(chip: &RgbImage) -> f32 {
    let (w, h) = (chip.width() as usize, chip.height() as usize);
    if w < 3 || h < 3 {
        return 0.0;
    }
    let grey: Vec<f32> = chip
        .pixels()
        .map(|p| 0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2]))
        .collect();
    let (mut sum, mut sum_sq, mut n) = (0.0f64, 0.0f64, 0.0f64);
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            let at = |dx: isize, dy: isize| grey[(y as isize + dy) as usize * w + (x as isize + dx) as usize];
            let laplacian = f64::from(at(-1, 0) + at(1, 0) + at(0, -1) + at(0, 1) - 4.0 * at(0, 0));
            sum += laplacian;
            sum_sq += laplacian * laplacian;
            n += 1.0;
        }
    }
    let variance = (sum_sq / n - (sum / n).powi(2)) as f32;
    (variance / SHARP_VARIANCE).min(1.0)
}

/// Whether `detection` shows the face where it was last embedded: every landmark within 3 % of
/// the face's height of where it was (a still face, give or take the detector's jitter).
pub fn same_view(last: Option<&[[f32; 2]; 5]>, detection: &Detection) -> bool {
    let Some(last) = last else {
        return false;
    };
    let tolerance = 0.03 * detection.h;
    last.iter()
        .zip(&detection.landmarks)
        .all(|(a, b)| (a[0] - b[0]).abs() <= tolerance && (a[1] - b[1]).abs() <= tolerance)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detection(h: f32, score: f32, nose_x: f32) -> Detection {
        Detection {
            x: 0.0,
            y: 0.0,
            w: h,
            h,
            score,
            landmarks: [[30.0, 40.0], [70.0, 40.0], [nose_x, 60.0], [35.0, 80.0], [65.0, 80.0]],
        }
    }

    #[test]
    fn bigger_surer_and_more_frontal_faces_score_higher() {
        let frontal = geometric(&detection(100.0, 0.9, 50.0), 24.0);
        assert!(frontal > geometric(&detection(60.0, 0.9, 50.0), 24.0));
        assert!(frontal > geometric(&detection(100.0, 0.7, 50.0), 24.0));
        assert!(frontal > geometric(&detection(100.0, 0.9, 62.0), 24.0), "head turned");
        assert_eq!(
            geometric(&detection(20.0, 0.9, 50.0), 24.0),
            0.0,
            "under the minimum size"
        );
        assert_eq!(
            frontality(&detection(100.0, 0.9, 70.0).landmarks),
            0.0,
            "nose under an eye: a profile"
        );
    }

    #[test]
    fn blur_lowers_sharpness() {
        let sharp = RgbImage::from_fn(150, 150, |x, y| {
            let v = if (x / 4 + y / 4) % 2 == 0 { 40 } else { 210 };
            image::Rgb([v, v, v])
        });
        let blurred = image::imageops::blur(&sharp, 3.0);
        assert!(sharpness(&sharp) > 0.9);
        assert!(sharpness(&blurred) < sharpness(&sharp) / 2.0);
        assert_eq!(sharpness(&RgbImage::from_pixel(150, 150, image::Rgb([9, 9, 9]))), 0.0);
    }

    #[test]
    fn a_face_that_has_not_moved_is_the_same_view() {
        let still = detection(100.0, 0.9, 50.0);
        assert!(!same_view(None, &still), "nothing embedded yet");
        let mut jitter = still.clone();
        jitter.landmarks[2][0] += 2.0;
        assert!(same_view(Some(&still.landmarks), &jitter));
        let mut turned = still.clone();
        turned.landmarks[2][0] += 6.0;
        assert!(
            !same_view(Some(&still.landmarks), &turned),
            "the nose moved 6 % of the face"
        );
    }
}
