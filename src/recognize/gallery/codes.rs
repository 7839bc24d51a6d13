//! Sign codes of templates: one bit per dimension of the centred template after a fixed random
//! rotation, so that the Hamming distance of two codes estimates the angle between the
//! templates (bits differ with probability angle/π). Scanning 16-byte codes instead of 512-byte
//! rows is what lets a million templates be searched within the memory bandwidth of one core;
//! the few thousand nearest codes are then ranked exactly.

/// The rotation and centre codes are made with; fixed when the gallery's index is built.
#[derive(Debug, Clone)]
pub(super) struct Coder {
    centre: Vec<f32>,
    /// Random signs applied before each of the two Hadamard transforms (a fast random rotation).
    flips: [Vec<f32>; 2],
    /// The dimension padded to a power of two, at least 64: the code's length in bits.
    bits: usize,
}

impl Coder {
    /// A coder centred on the mean of `rows` (`dim` values each).
    pub fn fit<'a>(dim: usize, rows: impl Iterator<Item = &'a [f32]>) -> Self {
        let mut centre = vec![0f64; dim];
        let mut count = 0usize;
        for row in rows {
            for (c, v) in centre.iter_mut().zip(row) {
                *c += f64::from(*v);
            }
            count += 1;
        }
        let centre = centre.iter().map(|c| (c / count.max(1) as f64) as f32).collect();
        let bits = dim.next_power_of_two().max(64);
        // A fixed seed: every recognizer encodes the same template to the same code.
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut flips = || -> Vec<f32> {
            (0..bits)
                .map(|_| if splitmix(&mut seed) & 1 == 0 { 1.0 } else { -1.0 })
                .collect()
        };
        Self {
            centre,
            flips: [flips(), flips()],
            bits,
        }
    }

    /// 64-bit words per code.
    pub fn words(&self) -> usize {
        self.bits / 64
    }

    /// Appends the code of `values` to `out`; `scratch` is reused between calls.
    pub fn encode(&self, values: &[f32], scratch: &mut Vec<f32>, out: &mut Vec<u64>) {
        scratch.clear();
        scratch.extend(values.iter().zip(&self.centre).map(|(v, c)| v - c));
        scratch.resize(self.bits, 0.0);
        for flips in &self.flips {
            for (v, f) in scratch.iter_mut().zip(flips) {
                *v *= f;
            }
            hadamard(scratch);
        }
        for word in scratch.chunks_exact(64) {
            let mut bits = 0u64;
            for (i, v) in word.iter().enumerate() {
                bits |= u64::from(*v > 0.0) << i;
            }
            out.push(bits);
        }
    }
}

/// The unnormalised Walsh–Hadamard transform in place (length a power of two): an orthogonal
/// rotation up to scale, in n·log n additions.
fn hadamard(v: &mut [f32]) {
    let mut half = 1;
    while half < v.len() {
        for block in v.chunks_exact_mut(2 * half) {
            let (a, b) = block.split_at_mut(half);
            for (x, y) in a.iter_mut().zip(b.iter_mut()) {
                let (s, d) = (*x + *y, *x - *y);
                *x = s;
                *y = d;
            }
        }
        half *= 2;
    }
}

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Writes the Hamming distance of each code in `codes` (`words` each) to `query` into `out`
/// (saturating at 255).
pub(super) fn hamming_into(codes: &[u64], query: &[u64], out: &mut [u8]) {
    let mut each = out.iter_mut();
    for_each_distance(codes, query, |_, d| {
        if let Some(slot) = each.next() {
            *slot = d;
        }
    });
}

/// Appends `(distance, first + i)` for each code `i` in `codes` within `limit` of `query`.
pub(super) fn hamming_within(codes: &[u64], query: &[u64], limit: u8, first: u32, out: &mut Vec<(u8, u32)>) {
    for_each_distance(codes, query, |i, d| {
        if d <= limit {
            out.push((d, first + i as u32));
        }
    });
}

/// Calls `f(i, distance)` for each code, with the CPU's POPCNT instruction when it has one.
#[inline(always)]
fn for_each_distance(codes: &[u64], query: &[u64], f: impl FnMut(usize, u8)) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("popcnt") {
        // SAFETY: the CPU was just found to have the POPCNT instruction.
        return unsafe { distances_popcnt(codes, query, f) };
    }
    distances_portable(codes, query, f)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "popcnt")]
fn distances_popcnt(codes: &[u64], query: &[u64], f: impl FnMut(usize, u8)) {
    // The same loop, compiled where `count_ones` is one instruction instead of a dozen.
    distances_portable(codes, query, f)
}

#[inline(always)]
fn distances_portable(codes: &[u64], query: &[u64], mut f: impl FnMut(usize, u8)) {
    if let [q0, q1] = *query {
        // The common case (128 dimensions) unrolled.
        for (i, code) in codes.chunks_exact(2).enumerate() {
            f(i, ((code[0] ^ q0).count_ones() + (code[1] ^ q1).count_ones()) as u8);
        }
        return;
    }
    for (i, code) in codes.chunks_exact(query.len()).enumerate() {
        let bits: u32 = code.iter().zip(query).map(|(a, b)| (a ^ b).count_ones()).sum();
        f(i, bits.min(255) as u8);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hadamard_is_a_rotation_up_to_scale() {
        let mut v: Vec<f32> = (0..128).map(|i| ((i * 37 % 11) as f32) - 5.0).collect();
        let before: f32 = v.iter().map(|x| x * x).sum();
        hadamard(&mut v);
        let after: f32 = v.iter().map(|x| x * x).sum();
        assert!((after / 128.0 - before).abs() < 1e-3 * before);
    }

    #[test]
    fn near_templates_get_near_codes() {
        let base: Vec<f32> = (0..128).map(|i| ((i * 7919 % 101) as f32 / 50.0) - 1.0).collect();
        let near: Vec<f32> = base
            .iter()
            .enumerate()
            .map(|(i, v)| v + if i % 9 == 0 { 0.05 } else { 0.0 })
            .collect();
        let far: Vec<f32> = base.iter().rev().copied().collect();
        let coder = Coder::fit(128, [base.as_slice(), far.as_slice()].into_iter());
        let mut scratch = Vec::new();
        let mut codes = Vec::new();
        for v in [&base, &near, &far] {
            coder.encode(v, &mut scratch, &mut codes);
        }
        let mut d = [0u8; 3];
        hamming_into(&codes, &codes[..2], &mut d);
        assert_eq!(d[0], 0);
        assert!(d[1] < d[2], "near {} far {}", d[1], d[2]);
    }

    #[test]
    fn the_portable_scan_counts_like_the_fast_one() {
        let codes = [u64::MAX, 0, 0b1011, 1 << 63, 7, 7];
        let query = [0, 0];
        let mut fast = [0u8; 3];
        hamming_into(&codes, &query, &mut fast);
        let mut portable = Vec::new();
        distances_portable(&codes, &query, |_, d| portable.push(d));
        assert_eq!(fast, [64, 4, 6]);
        assert_eq!(portable, fast);
        let mut within = Vec::new();
        hamming_within(&codes, &query, 6, 10, &mut within);
        assert_eq!(within, [(4, 11), (6, 12)]);
    }
}
