//! The motion gate: a small grey thumbnail of each frame, and whether it differs enough from the
//! camera's previous one to be worth the detector.

use image::RgbImage;

/// Thumbnails are made this many times smaller than the frame on each side: JPEG decodes at
/// 1/8 through the DCT for little more than the entropy decoding, so the gate costs a fraction
/// of a full decode.
const SCALE: u32 = 8;

/// A grey thumbnail of a frame, and the size of the frame it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thumbnail {
    pub width: u32,
    pub height: u32,
    pub frame_width: u32,
    pub frame_height: u32,
    pub luma: Vec<u8>,
}

impl Thumbnail {
    /// The thumbnail of a JPEG through a scaled decode; `None` when the bytes are not a JPEG the
    /// scaled decoder reads or are over `max_pixels` (the caller then decodes them in full).
    pub fn from_jpeg(bytes: &[u8], max_pixels: u64) -> Option<Thumbnail> {
        // libjpeg reports a broken stream by unwinding out of the decoder (mozjpeg's error
        // manager resumes the unwind without the panic hook): caught here, it means "not read".
        std::panic::catch_unwind(|| scaled_grey_decode(bytes, max_pixels))
            .ok()
            .flatten()
    }

    /// The thumbnail of a decoded frame (PNG, or a JPEG the scaled decoder refused), by block
    /// averages of the same size.
    pub fn from_image(image: &RgbImage) -> Thumbnail {
        let (width, height) = ((image.width() / SCALE).max(1), (image.height() / SCALE).max(1));
        let mut out = Vec::with_capacity((width * height) as usize);
        for ty in 0..height {
            for tx in 0..width {
                let mut sum = 0u32;
                let mut count = 0u32;
                for y in ty * SCALE..((ty + 1) * SCALE).min(image.height()) {
                    for x in tx * SCALE..((tx + 1) * SCALE).min(image.width()) {
                        let p = image.get_pixel(x, y);
                        sum += u32::from(luma(p[0], p[1], p[2]));
                        count += 1;
                    }
                }
                out.push((sum / count.max(1)) as u8);
            }
        }
        Thumbnail {
            width,
            height,
            frame_width: image.width(),
            frame_height: image.height(),
            luma: out,
        }
    }

    /// The share of thumbnail pixels whose brightness moved by more than `pixel_delta` since
    /// `previous`; 1 when the two cannot be compared (another size: the camera changed).
    pub fn changed_share(&self, previous: &Thumbnail, pixel_delta: u8) -> f32 {
        if self.width != previous.width || self.height != previous.height {
            return 1.0;
        }
        let changed = self
            .luma
            .iter()
            .zip(&previous.luma)
            .filter(|(a, b)| a.abs_diff(**b) > pixel_delta)
            .count();
        changed as f32 / self.luma.len().max(1) as f32
    }
}

/// libjpeg-turbo's 1/8 decode straight to grey: the DCT is scaled and only the luma component
/// is transformed, which is what makes the gate cheap.
fn scaled_grey_decode(bytes: &[u8], max_pixels: u64) -> Option<Thumbnail> {
    let mut decoder = mozjpeg::Decompress::new_mem(bytes).ok()?;
    let (frame_width, frame_height) = (decoder.width() as u32, decoder.height() as u32);
    if u64::from(frame_width) * u64::from(frame_height) > max_pixels || frame_width < SCALE || frame_height < SCALE {
        return None;
    }
    decoder.scale(1);
    let mut started = decoder.grayscale().ok()?;
    let (width, height) = (started.width() as u32, started.height() as u32);
    let luma: Vec<u8> = started.read_scanlines().ok()?;
    // A scan cut short is padded by libjpeg; the full decode, which checks completeness,
    // dead-letters such a frame if the detector ever needs it.
    let _ = started.finish();
    // EXIF orientation is left alone on purpose: the gate only compares a camera's frames
    // with each other, and a camera's orientation does not change between frames.
    (luma.len() == (width * height) as usize).then_some(Thumbnail {
        width,
        height,
        frame_width,
        frame_height,
        luma,
    })
}

/// ITU-R BT.601 luma in integer arithmetic.
fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((299 * u32::from(r) + 587 * u32::from(g) + 114 * u32::from(b)) / 1000) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(image: &RgbImage) -> Vec<u8> {
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
            .encode_image(image)
            .unwrap();
        out
    }

    #[test]
    fn a_scaled_decode_gives_an_eighth_of_the_frame_in_grey() {
        let frame = RgbImage::from_pixel(640, 480, image::Rgb([200, 100, 50]));
        let thumb = Thumbnail::from_jpeg(&jpeg(&frame), u64::MAX).unwrap();
        assert_eq!(
            (thumb.width, thumb.height, thumb.frame_width, thumb.frame_height),
            (80, 60, 640, 480)
        );
        let expected = luma(200, 100, 50);
        assert!(
            thumb.luma.iter().all(|v| v.abs_diff(expected) <= 3),
            "{:?}",
            &thumb.luma[..4]
        );
        assert_eq!(Thumbnail::from_jpeg(&jpeg(&frame), 1000), None, "over the pixel limit");
        assert_eq!(Thumbnail::from_jpeg(b"not a jpeg", u64::MAX), None);
    }

    #[test]
    fn a_moved_square_is_motion_and_the_same_frame_is_not() {
        let still = RgbImage::from_pixel(640, 480, image::Rgb([90, 90, 90]));
        let mut moved = still.clone();
        for y in 104..184 {
            for x in 200..280 {
                moved.put_pixel(x, y, image::Rgb([230, 220, 200]));
            }
        }
        let a = Thumbnail::from_image(&still);
        let b = Thumbnail::from_image(&moved);
        assert_eq!(a.changed_share(&a, 10), 0.0);
        let share = b.changed_share(&a, 10);
        assert!(
            (share - 100.0 / 4800.0).abs() < 1e-6,
            "an 80x80 square is 10x10 of 80x60: {share}"
        );
        let other_size = Thumbnail::from_image(&RgbImage::new(320, 240));
        assert_eq!(other_size.changed_share(&a, 10), 1.0);
    }
}
