//! Decoding camera and enrolment images (JPEG, PNG) into upright RGB, with a pixel limit.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageReader, RgbImage};

/// Why bytes are not a usable image. Every variant is permanent: retrying cannot help.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("empty input")]
    Empty,
    #[error("not a JPEG or PNG image")]
    UnsupportedFormat,
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
            DecodeError::UnsupportedFormat => "unsupported_format",
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
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| DecodeError::Corrupt(e.to_string()))?;
    match reader.format() {
        Some(image::ImageFormat::Jpeg | image::ImageFormat::Png) => {}
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
    let mut image = DynamicImage::from_decoder(decoder).map_err(|e| DecodeError::Corrupt(e.to_string()))?;
    image.apply_orientation(orientation);
    Ok(image.into_rgb8())
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
    fn oversized_header_is_rejected_without_decoding() {
        // A PNG header claiming 50 megapixels followed by nothing: must fail on size, not on data.
        let mut bytes = png(1, 1);
        bytes[16..20].copy_from_slice(&10_000u32.to_be_bytes());
        bytes[20..24].copy_from_slice(&5_000u32.to_be_bytes());
        assert!(matches!(
            decode_image(&bytes, 40_000_000),
            Err(DecodeError::TooLarge { .. }) | Err(DecodeError::Corrupt(_))
        ));
    }
}
