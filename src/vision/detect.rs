//! YuNet face detection: input preparation, output decoding and non-maximum suppression.

use image::RgbImage;
use ndarray::Array4;
use ort::session::Session;
use ort::value::TensorRef;

use super::VisionError;

const STRIDES: [usize; 3] = [8, 16, 32];

/// A detected face in source-image pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
    pub score: f32,
    /// Right eye, left eye, nose tip, right and left mouth corner (as seen by the subject).
    pub landmarks: [[f32; 2]; 5],
}

/// Intersection over union of two boxes given as left, top, width and height.
pub fn box_iou([ax, ay, aw, ah]: [f32; 4], [bx, by, bw, bh]: [f32; 4]) -> f32 {
    let ix = (ax + aw).min(bx + bw) - ax.max(bx);
    let iy = (ay + ah).min(by + bh) - ay.max(by);
    if ix <= 0.0 || iy <= 0.0 {
        return 0.0;
    }
    let inter = ix * iy;
    inter / (aw * ah + bw * bh - inter)
}

impl Detection {
    fn iou(&self, other: &Detection) -> f32 {
        box_iou([self.x, self.y, self.w, self.h], [other.x, other.y, other.w, other.h])
    }

    fn scaled(mut self, factor: f32) -> Detection {
        self.x *= factor;
        self.y *= factor;
        self.w *= factor;
        self.h *= factor;
        for p in &mut self.landmarks {
            p[0] *= factor;
            p[1] *= factor;
        }
        self
    }
}

/// The detector's input: the frame scaled to fit `long_side`, padded to multiples of 32, as BGR 0–255.
pub struct PreparedInput {
    pub tensor: Array4<f32>,
    /// Source pixels per input pixel: multiply detections by this to get back to the source.
    pub inverse_scale: f32,
}

pub fn prepare_input(image: &RgbImage, long_side: u32) -> PreparedInput {
    let (w, h) = image.dimensions();
    let scale = long_side as f32 / w.max(h) as f32;
    let rw = ((w as f32 * scale).round() as u32).max(1);
    let rh = ((h as f32 * scale).round() as u32).max(1);
    let resized;
    let view = if (rw, rh) == (w, h) {
        image
    } else {
        resized = super::resize::resize(image, rw, rh);
        &resized
    };
    let pw = rw.div_ceil(32) as usize * 32;
    let ph = rh.div_ceil(32) as usize * 32;
    let plane = pw * ph;
    let mut data = vec![0.0f32; 3 * plane];
    let (blue, rest) = data.split_at_mut(plane);
    let (green, red) = rest.split_at_mut(plane);
    for (y, row) in view.as_raw().chunks_exact(rw as usize * 3).enumerate() {
        let start = y * pw;
        for (x, p) in row.chunks_exact(3).enumerate() {
            red[start + x] = f32::from(p[0]);
            green[start + x] = f32::from(p[1]);
            blue[start + x] = f32::from(p[2]);
        }
    }
    let tensor = Array4::from_shape_vec((1, 3, ph, pw), data).expect("the buffer has exactly 3 planes of ph x pw");
    PreparedInput {
        tensor,
        inverse_scale: w as f32 / rw as f32,
    }
}

/// The four output tensors of one stride, flattened.
pub struct StrideOutput<'a> {
    pub stride: usize,
    pub cls: &'a [f32],
    pub obj: &'a [f32],
    pub bbox: &'a [f32],
    pub kps: &'a [f32],
}

/// Turns raw YuNet outputs into scored boxes (in input pixels) above `threshold`.
pub fn decode_outputs(outputs: &[StrideOutput<'_>], input_width: usize, threshold: f32) -> Vec<Detection> {
    let mut found = Vec::new();
    for out in outputs {
        let s = out.stride as f32;
        let cols = input_width / out.stride;
        for (i, (&cls, &obj)) in out.cls.iter().zip(out.obj).enumerate() {
            let score = (cls.clamp(0.0, 1.0) * obj.clamp(0.0, 1.0)).sqrt();
            if score < threshold {
                continue;
            }
            let (r, c) = ((i / cols) as f32, (i % cols) as f32);
            let b = &out.bbox[i * 4..i * 4 + 4];
            let (cx, cy) = ((c + b[0]) * s, (r + b[1]) * s);
            let (w, h) = (b[2].exp() * s, b[3].exp() * s);
            let k = &out.kps[i * 10..i * 10 + 10];
            let landmarks = std::array::from_fn(|j| [(k[2 * j] + c) * s, (k[2 * j + 1] + r) * s]);
            found.push(Detection {
                x: cx - w / 2.0,
                y: cy - h / 2.0,
                w,
                h,
                score,
                landmarks,
            });
        }
    }
    found
}

/// Greedy non-maximum suppression: best score first, dropping boxes that overlap a kept one.
pub fn non_maximum_suppression(mut detections: Vec<Detection>, iou_threshold: f32) -> Vec<Detection> {
    detections.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Detection> = Vec::new();
    for d in detections {
        if kept.iter().all(|k| k.iou(&d) <= iou_threshold) {
            kept.push(d);
        }
    }
    kept
}

/// A YuNet session (dynamic input size).
pub struct Detector {
    session: Session,
}

impl Detector {
    pub fn new(session: Session) -> Self {
        Self { session }
    }

    /// Faces in `image`, best first, in source pixels.
    pub fn detect(
        &mut self,
        image: &RgbImage,
        long_side: u32,
        threshold: f32,
        nms_iou: f32,
    ) -> Result<Vec<Detection>, VisionError> {
        let input = prepare_input(image, long_side);
        let input_width = input.tensor.shape()[3];
        let tensor = TensorRef::from_array_view(&input.tensor).map_err(VisionError::inference)?;
        let outputs = self
            .session
            .run(ort::inputs!["input" => tensor])
            .map_err(VisionError::inference)?;
        let mut raw = Vec::with_capacity(12);
        for stride in STRIDES {
            let get = |name: &str| -> Result<&[f32], VisionError> {
                let value = outputs
                    .get(format!("{name}_{stride}"))
                    .ok_or_else(|| VisionError::Inference(format!("detector has no output {name}_{stride}")))?;
                Ok(value.try_extract_tensor::<f32>().map_err(VisionError::inference)?.1)
            };
            raw.push((stride, get("cls")?, get("obj")?, get("bbox")?, get("kps")?));
        }
        let strides: Vec<StrideOutput<'_>> = raw
            .into_iter()
            .map(|(stride, cls, obj, bbox, kps)| StrideOutput {
                stride,
                cls,
                obj,
                bbox,
                kps,
            })
            .collect();
        let found = decode_outputs(&strides, input_width, threshold);
        Ok(non_maximum_suppression(found, nms_iou)
            .into_iter()
            .map(|d| d.scaled(input.inverse_scale))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn det(x: f32, score: f32) -> Detection {
        Detection {
            x,
            y: 0.0,
            w: 10.0,
            h: 10.0,
            score,
            landmarks: [[0.0; 2]; 5],
        }
    }

    #[test]
    fn nms_keeps_best_of_overlapping() {
        let kept = non_maximum_suppression(vec![det(0.0, 0.7), det(1.0, 0.9), det(50.0, 0.8)], 0.3);
        let xs: Vec<f32> = kept.iter().map(|d| d.x).collect();
        assert_eq!(xs, vec![1.0, 50.0]);
    }

    #[test]
    fn decode_follows_the_anchor_layout() {
        // A 64x32 input at stride 32 has 2 anchors in a row; light up the second (r=0, c=1).
        let cls = [0.0, 0.81];
        let obj = [0.0, 1.0];
        let bbox = [0.0, 0.0, 0.0, 0.0, 0.5, 0.25, 0.0, 0.0];
        let mut kps = [0.0f32; 20];
        kps[10] = 0.25; // first landmark of anchor 1: x = (0.25 + 1) * 32
        let out = StrideOutput {
            stride: 32,
            cls: &cls,
            obj: &obj,
            bbox: &bbox,
            kps: &kps,
        };
        let found = decode_outputs(&[out], 64, 0.6);
        assert_eq!(found.len(), 1);
        let d = &found[0];
        assert!((d.score - 0.9).abs() < 1e-6);
        // cx = (1 + 0.5) * 32 = 48, w = exp(0) * 32 = 32 → x = 32; cy = 0.25 * 32 = 8, h = 32 → y = -8.
        assert_eq!((d.x, d.y, d.w, d.h), (32.0, -8.0, 32.0, 32.0));
        assert_eq!(d.landmarks[0], [40.0, 0.0]);
    }

    #[test]
    fn input_is_bgr_padded_to_32() {
        let mut img = RgbImage::new(40, 20);
        img.put_pixel(0, 0, image::Rgb([1, 2, 3]));
        let p = prepare_input(&img, 40);
        assert_eq!(p.tensor.shape(), &[1, 3, 32, 64]);
        assert_eq!(
            [p.tensor[[0, 0, 0, 0]], p.tensor[[0, 1, 0, 0]], p.tensor[[0, 2, 0, 0]]],
            [3.0, 2.0, 1.0]
        );
        assert_eq!(p.inverse_scale, 1.0);
        assert_eq!(prepare_input(&RgbImage::new(1280, 960), 640).inverse_scale, 2.0);
    }
}
