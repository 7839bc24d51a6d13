//! Door-camera streams synthesised from real photos: a static background with sensor noise,
//! people crossing, approaching (the face grows) and leaving half out of frame, sometimes two at
//! a time, with long empty stretches; and the ground truth of who passed when.

use image::{Rgb, RgbImage};

/// A head cut from a photo, and where the face sits in it (fractions of the sprite's side).
#[derive(Clone)]
pub struct Sprite {
    pub image: RgbImage,
    pub face_centre: (f32, f32),
    pub face_height: f32,
}

/// How a person moves through the picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    /// Left to right (or back) at one distance.
    Cross { leftwards: bool },
    /// Towards the camera, the face growing, then out to one side.
    Approach { rightwards: bool },
    /// In from the edge, a look, and out the same edge, half of the face out of the picture at
    /// the end.
    Peek,
    /// Standing still in the middle, slowly coming out of the dark over the first half: no
    /// frame differs enough from the one before to be motion.
    Emerge,
}

/// One person passing one camera, over frames `first..=last` of its stream.
#[derive(Debug, Clone)]
pub struct Pass {
    pub person: usize,
    pub first: u64,
    pub last: u64,
    pub path: Path,
    /// Vertical place of the face, as a share of the frame height.
    pub lane: f32,
}

/// Where a pass puts the face at frame `n`: centre and face height in pixels, and the speed in
/// pixels per frame (for the motion blur).
fn place(pass: &Pass, n: u64, width: f32, height: f32) -> (f32, f32, f32, f32) {
    let span = (pass.last - pass.first).max(1) as f32;
    let t = (n - pass.first) as f32 / span;
    match pass.path {
        Path::Emerge => (width * 0.5, height * pass.lane, height * 0.22, 0.0),
        Path::Cross { leftwards } => {
            let face = height * 0.16;
            let (from, to) = (-face * 0.3, width + face * 0.3);
            let (from, to) = if leftwards { (to, from) } else { (from, to) };
            (
                from + (to - from) * t,
                height * pass.lane,
                face,
                (to - from).abs() / span,
            )
        }
        Path::Approach { rightwards } => {
            // Three quarters of the pass walking in, then a quick exit sideways.
            let face = height * (0.10 + 0.18 * (t / 0.75).min(1.0));
            let x0 = width * if rightwards { 0.4 } else { 0.6 };
            let exit = ((t - 0.75) / 0.25).max(0.0);
            let side = if rightwards { 1.0 } else { -1.0 };
            let x = x0 + side * exit * (width * 0.6 + face);
            let speed = if exit > 0.0 {
                (width * 0.6 + face) / (span * 0.25)
            } else {
                2.0
            };
            (x, height * pass.lane, face, speed)
        }
        Path::Peek => {
            // Enter from the right edge to a third of the way in, stop, go back until half the
            // face is out.
            let face = height * 0.2;
            let inside = width - face * 1.5;
            let edge = width;
            let x = if t < 0.3 {
                edge + (inside - edge) * (t / 0.3)
            } else if t < 0.7 {
                inside
            } else {
                inside + (edge - inside) * ((t - 0.7) / 0.3)
            };
            (
                x,
                height * pass.lane,
                face,
                if (0.3..0.7).contains(&t) { 0.0 } else { 8.0 },
            )
        }
    }
}

/// The background of a camera: a wall, a door frame and a floor, with some texture so that
/// the JPEG and the noise behave as on a real picture.
pub fn background(width: u32, height: u32, seed: u64) -> RgbImage {
    let mut rng = Rng(seed | 1);
    let shade = 150 + rng.below(50) as u8;
    RgbImage::from_fn(width, height, |x, y| {
        let (fx, fy) = (x as f32 / width as f32, y as f32 / height as f32);
        let texture = (((x / 7) ^ (y / 5)) % 9) as u8;
        if fy > 0.8 {
            Rgb([90 + texture, 80 + texture, 70])
        } else if (0.3..0.33).contains(&fx) || (0.67..0.7).contains(&fx) || (0.08..0.11).contains(&fy) {
            Rgb([60, 45, 35])
        } else {
            let g = shade - (fy * 30.0) as u8 + texture;
            Rgb([g, g - 5, g - 12])
        }
    })
}

/// Frame `n` of a camera: the background with fresh sensor noise and the people passing.
pub fn render(background: &RgbImage, sprites: &[Sprite], passes: &[Pass], n: u64, noise_seed: u64) -> RgbImage {
    let mut frame = background.clone();
    let mut rng = Rng((noise_seed ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15)) | 1);
    for p in frame.pixels_mut() {
        let r = rng.next_u64();
        for (c, shift) in p.0.iter_mut().zip([0, 8, 16]) {
            // Noise of -3..=3 per channel.
            let delta = ((r >> shift) % 7) as i16 - 3;
            *c = (i16::from(*c) + delta).clamp(0, 255) as u8;
        }
    }
    let (width, height) = (frame.width() as f32, frame.height() as f32);
    for pass in passes.iter().filter(|p| (p.first..=p.last).contains(&n)) {
        let sprite = &sprites[pass.person];
        let (cx, cy, face, speed) = place(pass, n, width, height);
        let opacity = match pass.path {
            Path::Emerge => ((n - pass.first) as f32 / ((pass.last - pass.first) as f32 / 2.0).max(1.0)).min(1.0),
            _ => 1.0,
        };
        paste(&mut frame, sprite, (cx, cy, face), speed, opacity);
    }
    frame
}

/// Draws the sprite scaled so that its face is `face` pixels high, centred at (cx, cy), inside
/// an ellipse (a head and shoulders, not a rectangle), blurred along the motion.
fn paste(frame: &mut RgbImage, sprite: &Sprite, (cx, cy, face): (f32, f32, f32), speed: f32, opacity: f32) {
    let side = (face / sprite.face_height).round().max(8.0) as u32;
    let mut scaled = image::imageops::resize(&sprite.image, side, side, image::imageops::FilterType::Triangle);
    if speed > 6.0 {
        scaled = image::imageops::blur(&scaled, (speed / 20.0).min(2.0));
    }
    let left = cx - sprite.face_centre.0 * side as f32;
    let top = cy - sprite.face_centre.1 * side as f32;
    let r = side as f32 / 2.0;
    for (x, y, p) in scaled.enumerate_pixels() {
        let (dx, dy) = ((x as f32 - r) / r, (y as f32 - r) / (r * 1.1));
        if dx * dx + dy * dy > 1.0 {
            continue;
        }
        let (fx, fy) = (left + x as f32, top + y as f32);
        if fx >= 0.0 && fy >= 0.0 && (fx as u32) < frame.width() && (fy as u32) < frame.height() {
            let under = frame.get_pixel_mut(fx as u32, fy as u32);
            for (u, s) in under.0.iter_mut().zip(p.0) {
                *u = (f32::from(*u) * (1.0 - opacity) + f32::from(s) * opacity).round() as u8;
            }
        }
    }
}

/// Deterministic pseudo-random numbers (xorshift64): the same stream on every run.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// Lays passes out on a stream: each person once, in a shuffled order, a pair of them
/// together, separated by empty stretches long enough that people are in at most a fifth of
/// the frames. Returns the passes and the stream's length in frames.
pub fn timeline(people: usize, fps: u32, rng: &mut Rng) -> (Vec<Pass>, u64) {
    let mut order: Vec<usize> = (0..people).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let fps = u64::from(fps);
    let mut passes = Vec::new();
    let mut at = 4 * fps;
    let mut i = 0;
    while i < order.len() {
        let length = fps * (2 + rng.below(3)) + rng.below(fps);
        let path = match rng.below(3) {
            0 => Path::Cross {
                leftwards: rng.below(2) == 0,
            },
            1 => Path::Approach {
                rightwards: rng.below(2) == 0,
            },
            _ => Path::Peek,
        };
        passes.push(Pass {
            person: order[i],
            first: at,
            last: at + length,
            path,
            lane: 0.3 + rng.below(20) as f32 / 100.0,
        });
        // The third pass of a stream has company: a second person crossing the other way,
        // lower in the picture, starting a second later.
        if i == 2 && i + 1 < order.len() {
            i += 1;
            passes.push(Pass {
                person: order[i],
                first: at + fps,
                last: at + fps + length,
                path: Path::Cross { leftwards: true },
                lane: 0.62,
            });
        }
        at += length + fps + length * 4 + rng.below(length);
        i += 1;
    }
    (passes, at + 4 * fps)
}
