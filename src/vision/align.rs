//! Five-point similarity alignment of a detected face into the chip the recognizer expects.

use image::{Rgb, RgbImage};

use crate::models::RecognizerCard;
use crate::models::card::DLIB_TEMPLATE;

/// The aligned chip a recognizer wants: its side in pixels and where the five landmarks go.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Chip {
    pub side: u32,
    pub template: [[f32; 2]; 5],
}

impl Chip {
    /// dlib's 150×150 chip (docs/contracts.md, section 8.2).
    pub const DLIB: Chip = Chip {
        side: 150,
        template: DLIB_TEMPLATE,
    };

    pub fn of(card: &RecognizerCard) -> Chip {
        Chip {
            side: card.input_size,
            template: card.chip_template(),
        }
    }
}

/// `dst = [a -b; b a] · src + t`: rotation, uniform scale and translation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Similarity {
    pub a: f32,
    pub b: f32,
    pub tx: f32,
    pub ty: f32,
}

impl Similarity {
    /// Least-squares fit of `src` onto `dst` (the 2-D Umeyama solution, without reflection).
    pub fn fit(src: &[[f32; 2]], dst: &[[f32; 2]]) -> Similarity {
        let n = src.len() as f64;
        let mean = |pts: &[[f32; 2]]| {
            let (sx, sy) = pts
                .iter()
                .fold((0.0f64, 0.0f64), |(x, y), p| (x + f64::from(p[0]), y + f64::from(p[1])));
            (sx / n, sy / n)
        };
        let (msx, msy) = mean(src);
        let (mdx, mdy) = mean(dst);
        let (mut dot, mut cross, mut norm) = (0.0f64, 0.0f64, 0.0f64);
        for (s, d) in src.iter().zip(dst) {
            let (sx, sy) = (f64::from(s[0]) - msx, f64::from(s[1]) - msy);
            let (dx, dy) = (f64::from(d[0]) - mdx, f64::from(d[1]) - mdy);
            dot += sx * dx + sy * dy;
            cross += sx * dy - sy * dx;
            norm += sx * sx + sy * sy;
        }
        if norm == 0.0 {
            return Similarity {
                a: 1.0,
                b: 0.0,
                tx: (mdx - msx) as f32,
                ty: (mdy - msy) as f32,
            };
        }
        let (a, b) = (dot / norm, cross / norm);
        Similarity {
            a: a as f32,
            b: b as f32,
            tx: (mdx - (a * msx - b * msy)) as f32,
            ty: (mdy - (b * msx + a * msy)) as f32,
        }
    }

    /// How much the transform enlarges (> 1) or shrinks (< 1) the source.
    pub fn scale(&self) -> f32 {
        self.a.hypot(self.b)
    }

    pub fn apply(&self, p: [f32; 2]) -> [f32; 2] {
        [
            self.a * p[0] - self.b * p[1] + self.tx,
            self.b * p[0] + self.a * p[1] + self.ty,
        ]
    }

    pub fn invert(&self, p: [f32; 2]) -> [f32; 2] {
        let s2 = self.a * self.a + self.b * self.b;
        let (u, v) = (p[0] - self.tx, p[1] - self.ty);
        [(self.a * u + self.b * v) / s2, (-self.b * u + self.a * v) / s2]
    }
}

/// Aligns the face with `landmarks` (source pixels) into `chip`.
///
/// Bilinear sampling only looks at 4 pixels, so when the face is more than twice the chip's
/// size the region is first averaged down by a whole factor (an area filter) to avoid aliasing.
pub fn align_face(image: &RgbImage, landmarks: &[[f32; 2]; 5], chip: &Chip) -> RgbImage {
    let transform = Similarity::fit(landmarks, &chip.template);
    let factor = (1.0 / transform.scale()).floor() as u32;
    if factor < 2 {
        return warp(image, &transform, chip.side);
    }
    let side = chip.side as f32;
    // Only the part of the image that lands in the chip is averaged down.
    let corners = [[0.0, 0.0], [side, 0.0], [0.0, side], [side, side]].map(|c| transform.invert(c));
    let margin = factor as f32 * 2.0;
    let (w, h) = (image.width() as f32, image.height() as f32);
    let x0 = (corners.iter().map(|c| c[0]).fold(f32::MAX, f32::min) - margin).clamp(0.0, w) as u32;
    let y0 = (corners.iter().map(|c| c[1]).fold(f32::MAX, f32::min) - margin).clamp(0.0, h) as u32;
    let x1 = (corners.iter().map(|c| c[0]).fold(f32::MIN, f32::max) + margin).clamp(0.0, w) as u32;
    let y1 = (corners.iter().map(|c| c[1]).fold(f32::MIN, f32::max) + margin).clamp(0.0, h) as u32;
    let reduced = box_downscale(image, x0, y0, x1.saturating_sub(x0), y1.saturating_sub(y0), factor);
    // A reduced pixel j averages source pixels [j·k, j·k + k), whose centre is j·k + (k - 1)/2.
    let k = factor as f32;
    let moved = landmarks.map(|p| {
        [
            (p[0] - x0 as f32 - (k - 1.0) / 2.0) / k,
            (p[1] - y0 as f32 - (k - 1.0) / 2.0) / k,
        ]
    });
    warp(&reduced, &Similarity::fit(&moved, &chip.template), chip.side)
}

/// Averages `factor`×`factor` blocks of the region (x, y, w, h); a partial block at the edge is dropped.
pub fn box_downscale(image: &RgbImage, x: u32, y: u32, w: u32, h: u32, factor: u32) -> RgbImage {
    let (ow, oh) = (w / factor, h / factor);
    let area = factor * factor;
    RgbImage::from_fn(ow.max(1), oh.max(1), |ox, oy| {
        if ow == 0 || oh == 0 {
            return Rgb([0, 0, 0]);
        }
        let mut sum = [0u32; 3];
        for dy in 0..factor {
            for dx in 0..factor {
                let p = image.get_pixel(x + ox * factor + dx, y + oy * factor + dy);
                for c in 0..3 {
                    sum[c] += u32::from(p[c]);
                }
            }
        }
        Rgb(sum.map(|s| ((s + area / 2) / area) as u8))
    })
}

/// Samples the chip from `image` through the inverse of `transform`; outside the image is black.
fn warp(image: &RgbImage, transform: &Similarity, side: u32) -> RgbImage {
    RgbImage::from_fn(side, side, |u, v| {
        let [x, y] = transform.invert([u as f32, v as f32]);
        Rgb(bilinear(image, x, y))
    })
}

pub(super) fn bilinear(image: &RgbImage, x: f32, y: f32) -> [u8; 3] {
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let (w, h) = (image.width() as i64, image.height() as i64);
    let at = |xi: i64, yi: i64| -> [f32; 3] {
        if xi < 0 || yi < 0 || xi >= w || yi >= h {
            [0.0; 3]
        } else {
            image.get_pixel(xi as u32, yi as u32).0.map(f32::from)
        }
    };
    let (xi, yi) = (x0 as i64, y0 as i64);
    let (p00, p10, p01, p11) = (at(xi, yi), at(xi + 1, yi), at(xi, yi + 1), at(xi + 1, yi + 1));
    std::array::from_fn(|c| {
        let top = p00[c] * (1.0 - fx) + p10[c] * fx;
        let bottom = p01[c] * (1.0 - fx) + p11[c] * fx;
        (top * (1.0 - fy) + bottom * fy).round().clamp(0.0, 255.0) as u8
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_recovers_a_known_similarity() {
        let truth = Similarity {
            a: 0.8,
            b: 0.3,
            tx: 12.0,
            ty: -4.0,
        };
        let src = [[10.0, 20.0], [60.0, 22.0], [35.0, 50.0], [15.0, 80.0], [58.0, 79.0]];
        let dst = src.map(|p| truth.apply(p));
        let fit = Similarity::fit(&src, &dst);
        for (got, want) in [
            (fit.a, truth.a),
            (fit.b, truth.b),
            (fit.tx, truth.tx),
            (fit.ty, truth.ty),
        ] {
            assert!((got - want).abs() < 1e-4, "{fit:?}");
        }
        let back = fit.invert(fit.apply([3.0, 7.0]));
        assert!((back[0] - 3.0).abs() < 1e-4 && (back[1] - 7.0).abs() < 1e-4);
    }

    #[test]
    fn template_landmarks_map_to_themselves() {
        let mut img = RgbImage::new(150, 150);
        img.put_pixel(74, 76, Rgb([200, 100, 50]));
        let chip = align_face(&img, &DLIB_TEMPLATE, &Chip::DLIB);
        assert_eq!(chip.get_pixel(74, 76).0, [200, 100, 50]);
    }

    #[test]
    fn a_card_s_chip_has_its_side_and_template() {
        let mut card = RecognizerCard::dlib();
        card.input_size = 112;
        card.template = crate::models::AlignmentTemplate::Named(crate::models::NamedTemplate::Arcface);
        let chip = Chip::of(&card);
        let img = RgbImage::from_pixel(300, 300, Rgb([9, 9, 9]));
        let landmarks = chip.template.map(|[x, y]| [x * 2.0, y * 2.0]);
        let aligned = align_face(&img, &landmarks, &chip);
        assert_eq!(aligned.dimensions(), (112, 112));
        assert_eq!(aligned.get_pixel(56, 56).0, [9, 9, 9]);
    }

    #[test]
    fn large_faces_are_area_filtered() {
        // A fine checkerboard face 4× the chip: bilinear alone would alias it to black or white;
        // the area filter turns it into mid grey.
        let img = RgbImage::from_fn(
            800,
            800,
            |x, y| {
                if (x + y) % 2 == 0 { Rgb([255; 3]) } else { Rgb([0; 3]) }
            },
        );
        let landmarks = DLIB_TEMPLATE.map(|p| [p[0] * 4.0 + 50.0, p[1] * 4.0 + 50.0]);
        let chip = align_face(&img, &landmarks, &Chip::DLIB);
        let p = chip.get_pixel(75, 75).0[0];
        assert!((100..=155).contains(&p), "centre pixel {p}");
    }
}
