//! Decoding camera and enrolment images (JPEG, PNG, WebP) into upright RGB, with a pixel limit;
//! HEIC and AVIF, which phones also send, are recognised and refused by name. JPEGs are decoded by
//! libjpeg-turbo where it can.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageReader, RgbImage};

/// Why bytes are not a usable image. Every variant is permanent: retrying cannot help.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("empty input")]
    Empty,
    #[error("not a JPEG, PNG or WebP image")]
    UnsupportedFormat,
    #[error("{0} images are not supported: convert to JPEG, PNG or WebP (phones can be set to save JPEG)")]
    UnsupportedKnownFormat(&'static str),
    #[error("image is {width}x{height} = {pixels} pixels, over the limit of {max_pixels}")]
    TooLarge {
        width: u32,
        height: u32,
        pixels: u64,
        max_pixels: u64,
    },
    #[error("corrupt image: {0}")]
    Corrupt(String),
}

impl DecodeError {
    /// A short stable name, for dead-letter headers and metric labels.
    pub fn kind(&self) -> &'static str {
        match self {
            DecodeError::Empty => "empty",
            DecodeError::UnsupportedFormat | DecodeError::UnsupportedKnownFormat(_) => "unsupported_format",
            DecodeError::TooLarge { .. } => "too_large",
            DecodeError::Corrupt(_) => "corrupt",
        }
    }
}

/// Decodes `bytes`, checking the size from the header before any pixel is decoded, and turns
/// the image upright according to its EXIF orientation (phones store portraits sideways).
pub fn decode_image(bytes: &[u8], max_pixels: u64) -> Result<RgbImage, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    if let Some(format) = heif_family(bytes) {
        return Err(DecodeError::UnsupportedKnownFormat(format));
    }
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| DecodeError::Corrupt(e.to_string()))?;
    let reader_format = reader.format();
    match reader_format {
        Some(image::ImageFormat::Jpeg) => check_jpeg_complete(bytes)?,
        Some(image::ImageFormat::Png | image::ImageFormat::WebP) => {}
        _ => return Err(DecodeError::UnsupportedFormat),
    }
    let mut decoder = reader.into_decoder().map_err(|e| DecodeError::Corrupt(e.to_string()))?;
    let (width, height) = decoder.dimensions();
    let pixels = u64::from(width) * u64::from(height);
    if pixels > max_pixels {
        return Err(DecodeError::TooLarge {
            width,
            height,
            pixels,
            max_pixels,
        });
    }
    if pixels == 0 {
        return Err(DecodeError::Corrupt("image has no pixels".into()));
    }
    // A broken EXIF block should not cost the frame: treat it as "no rotation".
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let simd_decoded = match reader_format {
        Some(image::ImageFormat::Jpeg) => jpeg_with_libjpeg_turbo(bytes, width, height),
        _ => None,
    };
    let mut image = match simd_decoded {
        Some(rgb) => DynamicImage::ImageRgb8(rgb),
        None => DynamicImage::from_decoder(decoder).map_err(|e| DecodeError::Corrupt(e.to_string()))?,
    };
    image.apply_orientation(orientation);
    Ok(image.into_rgb8())
}

/// A JPEG's pixels through libjpeg-turbo, whose SIMD decodes a 640x480 camera frame 1.2 to 1.3
/// times as fast as the image crate's decoder (measured 2026-12-07; decoding is the largest cost
/// of a frame after the models). `None` when it
/// cannot (a CMYK JPEG, a stream it refuses): the image crate's decoder then decodes the frame,
/// and names what is wrong with it.
fn jpeg_with_libjpeg_turbo(bytes: &[u8], width: u32, height: u32) -> Option<RgbImage> {
    // libjpeg reports a broken stream by unwinding out of the decoder (mozjpeg's error manager
    // resumes the unwind without the panic hook): caught here, it means "not read".
    std::panic::catch_unwind(|| {
        let mut started = mozjpeg::Decompress::new_mem(bytes).ok()?.rgb().ok()?;
        if (started.width() as u32, started.height() as u32) != (width, height) {
            return None;
        }
        let pixels: Vec<[u8; 3]> = started.read_scanlines().ok()?;
        started.finish().ok()?;
        RgbImage::from_raw(width, height, pixels.into_flattened())
    })
    .ok()
    .flatten()
}

/// HEIC or AVIF, from the ISO base media file's `ftyp` box: its major brand, or a compatible
/// brand listed in the box (some encoders put a generic `mif1` first).
fn heif_family(bytes: &[u8]) -> Option<&'static str> {
    if bytes.len() < 16 || &bytes[4..8] != b"ftyp" {
        return None;
    }
    let box_len = u32::from_be_bytes(bytes[0..4].try_into().ok()?) as usize;
    let end = box_len.clamp(16, 256).min(bytes.len());
    // The major brand at 8..12, the minor version at 12..16, then the compatible brands.
    let brands = std::iter::once(&bytes[8..12]).chain(bytes[16..end].chunks_exact(4));
    let mut heif = false;
    for brand in brands {
        match brand {
            b"avif" | b"avis" => return Some("AVIF"),
            b"heic" | b"heix" | b"hevc" | b"hevx" | b"heim" | b"heis" | b"mif1" | b"msf1" => heif = true,
            _ => {}
        }
    }
    heif.then_some("HEIC")
}

/// How far from the end the JPEG end-of-image marker may sit (some cameras pad their frames).
const JPEG_TRAILER_WINDOW: usize = 4096;

/// The JPEG decoder fills a truncated scan with grey instead of failing, so a cut-off frame
/// would be analysed as a real one. A complete JPEG ends with the EOI marker (FF D9), which
/// cannot occur inside entropy-coded data, where every FF is followed by 00 or a restart marker.
fn check_jpeg_complete(bytes: &[u8]) -> Result<(), DecodeError> {
    let tail = &bytes[bytes.len().saturating_sub(JPEG_TRAILER_WINDOW)..];
    if tail.windows(2).any(|w| w == [0xFF, 0xD9]) {
        Ok(())
    } else {
        Err(DecodeError::Corrupt("truncated JPEG: no end-of-image marker".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let img = RgbImage::from_pixel(width, height, image::Rgb([10, 20, 30]));
        let mut out = Vec::new();
        DynamicImage::ImageRgb8(img)
            .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn decodes_png() {
        let img = decode_image(&png(4, 3), 100).unwrap();
        assert_eq!(img.dimensions(), (4, 3));
        assert_eq!(img.get_pixel(0, 0).0, [10, 20, 30]);
    }

    #[test]
    fn rejects_garbage_empty_and_oversized() {
        assert_eq!(decode_image(b"", 100), Err(DecodeError::Empty));
        assert_eq!(
            decode_image(b"hello, not an image at all", 100),
            Err(DecodeError::UnsupportedFormat)
        );
        assert!(matches!(
            decode_image(&png(20, 20), 100),
            Err(DecodeError::TooLarge { pixels: 400, .. })
        ));
        let mut truncated = png(64, 64);
        truncated.truncate(truncated.len() / 2);
        assert!(matches!(decode_image(&truncated, 10_000), Err(DecodeError::Corrupt(_))));
    }

    #[test]
    fn truncated_jpeg_is_corrupt() {
        let img = RgbImage::from_fn(256, 256, |x, y| image::Rgb([x as u8, y as u8, (x ^ y) as u8]));
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new(&mut jpeg)
            .encode_image(&img)
            .unwrap();
        assert!(decode_image(&jpeg, 1 << 20).is_ok());
        let mut padded = jpeg.clone();
        padded.extend_from_slice(&[0; 100]);
        assert!(decode_image(&padded, 1 << 20).is_ok(), "padding after EOI is tolerated");
        jpeg.truncate(jpeg.len() * 2 / 3);
        assert!(matches!(decode_image(&jpeg, 1 << 20), Err(DecodeError::Corrupt(m)) if m.contains("truncated")));
    }

    #[test]
    fn jpeg_pixels_from_libjpeg_turbo_match_the_image_crates_decode() {
        let img = RgbImage::from_fn(320, 240, |x, y| image::Rgb([x as u8, y as u8, ((x + y) / 3) as u8]));
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90)
            .encode_image(&img)
            .unwrap();
        let turbo = jpeg_with_libjpeg_turbo(&jpeg, 320, 240).expect("libjpeg-turbo reads a baseline JPEG");
        let reference = image::load_from_memory(&jpeg).unwrap().into_rgb8();
        let total: u64 = turbo
            .as_raw()
            .iter()
            .zip(reference.as_raw())
            .map(|(a, b)| u64::from(a.abs_diff(*b)))
            .sum();
        let mean = total as f64 / turbo.as_raw().len() as f64;
        assert!(mean < 1.0, "the two decoders differ by {mean} per channel on average");
        assert_eq!(
            decode_image(&jpeg, 1 << 20).unwrap(),
            turbo,
            "JPEGs go through libjpeg-turbo"
        );
        assert!(
            jpeg_with_libjpeg_turbo(&jpeg, 321, 240).is_none(),
            "a size other than the header's is refused"
        );
        assert!(jpeg_with_libjpeg_turbo(b"not a jpeg", 1, 1).is_none());
    }

    /// CRC-32 (IEEE) as PNG chunks carry it, bit by bit: enough for a test.
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for byte in bytes {
            crc ^= u32::from(*byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn oversized_header_is_rejected_without_decoding() {
        // A valid PNG header (its checksum made right) claiming 50 megapixels, followed by the pixel
        // data of one pixel: only a check of the header's size can give TooLarge.
        let mut bytes = png(1, 1);
        bytes[16..20].copy_from_slice(&10_000u32.to_be_bytes());
        bytes[20..24].copy_from_slice(&5_000u32.to_be_bytes());
        let crc = crc32(&bytes[12..29]);
        bytes[29..33].copy_from_slice(&crc.to_be_bytes());
        assert_eq!(
            decode_image(&bytes, 40_000_000),
            Err(DecodeError::TooLarge {
                width: 10_000,
                height: 5_000,
                pixels: 50_000_000,
                max_pixels: 40_000_000
            })
        );
        // Under a higher limit the same header gets past the size check and fails on the data.
        assert!(matches!(decode_image(&bytes, 60_000_000), Err(DecodeError::Corrupt(_))));
    }

    #[test]
    fn webp_is_decoded_and_heic_and_avif_are_named() {
        let img = RgbImage::from_fn(16, 8, |x, _| image::Rgb([x as u8 * 10, 50, 200]));
        let mut webp = Vec::new();
        DynamicImage::ImageRgb8(img)
            .write_to(&mut Cursor::new(&mut webp), image::ImageFormat::WebP)
            .unwrap();
        let decoded = decode_image(&webp, 1_000).unwrap();
        assert_eq!(decoded.dimensions(), (16, 8));
        assert_eq!(
            decoded.get_pixel(3, 2).0,
            [30, 50, 200],
            "lossless WebP keeps the pixels"
        );
        let ftyp = |brands: &[u8]| {
            let mut b = ((8 + brands.len()) as u32).to_be_bytes().to_vec();
            b.extend_from_slice(b"ftyp");
            b.extend_from_slice(brands);
            b.extend_from_slice(&[0; 64]);
            b
        };
        let heic = ftyp(b"heic\0\0\0\0mif1heic");
        let message = decode_image(&heic, 1_000).unwrap_err().to_string();
        assert!(message.starts_with("HEIC images are not supported"), "{message}");
        let avif = ftyp(b"mif1\0\0\0\0mif1avifmiaf");
        assert_eq!(
            decode_image(&avif, 1_000),
            Err(DecodeError::UnsupportedKnownFormat("AVIF"))
        );
        let mp4 = ftyp(b"isom\0\0\0\0isomavc1");
        assert_eq!(decode_image(&mp4, 1_000), Err(DecodeError::UnsupportedFormat));
    }
}
