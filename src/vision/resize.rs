//! Fast resizing for the detector's input: a whole-factor area filter, then bilinear sampling.
//!
//! `image`'s filtered resize is exact but costs tens of milliseconds per frame; the detector
//! only needs an alias-free image of the right size.

use image::{Rgb, RgbImage};

use super::align::{bilinear, box_downscale};

/// Resizes to `width`×`height`. Shrinking by 2× or more first averages whole blocks of pixels,
/// so the bilinear step never skips over source pixels.
pub fn resize(image: &RgbImage, width: u32, height: u32) -> RgbImage {
    let factor = (image.width() / width.max(1)).min(image.height() / height.max(1));
    let reduced;
    let source = if factor >= 2 {
        reduced = box_downscale(image, 0, 0, image.width(), image.height(), factor);
        &reduced
    } else {
        image
    };
    let sx = source.width() as f32 / width as f32;
    let sy = source.height() as f32 / height as f32;
    // Pixel centres map to pixel centres, as in every common resizer.
    RgbImage::from_fn(width, height, |x, y| {
        let fx = ((x as f32 + 0.5) * sx - 0.5).clamp(0.0, source.width() as f32 - 1.0);
        let fy = ((y as f32 + 0.5) * sy - 0.5).clamp(0.0, source.height() as f32 - 1.0);
        Rgb(bilinear(source, fx, fy))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_image_stays_flat_and_sized() {
        let img = RgbImage::from_pixel(853, 480, Rgb([10, 200, 30]));
        let out = resize(&img, 640, 360);
        assert_eq!(out.dimensions(), (640, 360));
        assert!(out.pixels().all(|p| p.0 == [10, 200, 30]));
    }

    #[test]
    fn shrinking_a_checkerboard_averages_it() {
        let img = RgbImage::from_fn(
            1280,
            960,
            |x, y| if (x + y) % 2 == 0 { Rgb([255; 3]) } else { Rgb([0; 3]) },
        );
        let out = resize(&img, 320, 240);
        assert!(
            out.pixels().all(|p| (120..=135).contains(&p.0[0])),
            "{:?}",
            out.get_pixel(10, 10)
        );
    }

    #[test]
    fn upscaling_interpolates() {
        let img = RgbImage::from_fn(2, 1, |x, _| Rgb([if x == 0 { 0 } else { 200 }; 3]));
        let out = resize(&img, 4, 1);
        let row: Vec<u8> = out.pixels().map(|p| p.0[0]).collect();
        assert_eq!(row, vec![0, 50, 150, 200]);
    }
}
