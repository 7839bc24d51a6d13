//! Finding the nearest templates: every template compared in a small gallery; in a large one,
//! the [`RERANKED`] templates whose sign codes are nearest the query's, ranked exactly.
//! Candidates are visited in the gallery's order and ties keep the first, so an answer is a
//! function of the gallery and the query alone.

use simsimd::SpatialSimilarity;

use super::chunk::{CHUNK_ROWS, Chunk};
use super::codes;
use super::{Gallery, RERANKED};
use crate::domain::{Metric, PersonId};

/// A template: its chunk and row.
pub(super) type Hit<'g> = (&'g Chunk, usize);

/// The nearest template to `query`.
pub(super) fn nearest<'g>(g: &'g Gallery, query: &[f32], metric: Metric) -> Option<Hit<'g>> {
    let mut best: Option<(f64, Hit<'g>)> = None;
    visit(g, query, |chunk, row| {
        let rank = rank(metric, query, chunk.row(row, g.dim));
        if best.is_none_or(|(b, _)| rank < b) {
            best = Some((rank, (chunk, row)));
        }
    });
    best.map(|(_, hit)| hit)
}

/// The nearest template, and the nearest of anyone else; people tied at one distance are ordered
/// by id.
pub(super) fn nearest_two_people<'g>(
    g: &'g Gallery,
    query: &[f32],
    metric: Metric,
) -> Option<(Hit<'g>, Option<Hit<'g>>)> {
    struct Ranked<'g> {
        rank: f64,
        person: &'g PersonId,
        hit: Hit<'g>,
    }
    let before = |a: &Ranked, b: &Ranked| a.rank < b.rank || (a.rank == b.rank && a.person < b.person);
    let mut first: Option<Ranked<'g>> = None;
    let mut second: Option<Ranked<'g>> = None;
    visit(g, query, |chunk, row| {
        let candidate = Ranked {
            rank: rank(metric, query, chunk.row(row, g.dim)),
            person: chunk.owner(row),
            hit: (chunk, row),
        };
        match &first {
            Some(f) if f.person == candidate.person => {
                if candidate.rank < f.rank {
                    first = Some(candidate);
                }
            }
            Some(f) if !before(&candidate, f) => {
                if second.as_ref().is_none_or(|s| before(&candidate, s)) {
                    second = Some(candidate);
                }
            }
            // The new nearest person; the one it displaces was nearer than anybody else.
            _ => second = first.replace(candidate),
        }
    });
    first.map(|f| (f.hit, second.map(|s| s.hit)))
}

/// What orders templates by nearness under `metric`: the squared L2 distance, or the cosine
/// distance.
fn rank(metric: Metric, query: &[f32], row: &[f32]) -> f64 {
    let rank = match metric {
        Metric::L2 => f32::l2sq(query, row),
        Metric::Cosine => <f32 as SpatialSimilarity>::cos(query, row),
    };
    rank.unwrap_or(f64::INFINITY)
}

/// Calls `f` with every template worth ranking exactly for `query`.
fn visit<'g>(g: &'g Gallery, query: &[f32], mut f: impl FnMut(&'g Chunk, usize)) {
    if query.len() != g.dim || g.templates == 0 {
        return;
    }
    match &g.coder {
        Some(coder) if g.is_indexed() => {
            let mut code = Vec::with_capacity(coder.words());
            coder.encode(query, &mut Vec::new(), &mut code);
            let mut positions = nearest_codes(g, &code).into_iter().peekable();
            let mut first = 0usize;
            for chunk in &g.chunks {
                while let Some(&p) = positions.peek().filter(|&&p| p < first + chunk.len()) {
                    f(chunk, p - first);
                    positions.next();
                }
                first += chunk.len();
            }
        }
        _ => {
            for chunk in &g.chunks {
                for row in 0..chunk.len() {
                    f(chunk, row);
                }
            }
        }
    }
}

/// Rows a prefix of the gallery is sampled by, to guess how far the nearest codes lie.
const SAMPLE: usize = 64 * 1024;

/// The positions (in gallery order) of the [`RERANKED`] templates with the codes nearest `code`:
/// all those under the cut-off distance, then those at it in gallery order. One pass over the
/// codes keeps those within a limit guessed from a sample, generously; should it keep too few,
/// a second pass with the exact limit follows, so the answer never depends on the guess.
fn nearest_codes(g: &Gallery, code: &[u64]) -> Vec<usize> {
    let mut histogram = [0usize; 256];
    let mut sampled = 0usize;
    let mut distances = vec![0u8; CHUNK_ROWS];
    for chunk in &g.chunks {
        if sampled >= SAMPLE {
            break;
        }
        codes::hamming_into(&chunk.codes, code, &mut distances[..chunk.len()]);
        for &d in &distances[..chunk.len()] {
            histogram[usize::from(d)] += 1;
        }
        sampled += chunk.len();
    }
    // Twice what the sample says is needed, scaled to the whole gallery.
    let wanted = (2 * RERANKED * sampled).div_ceil(g.templates);
    let guess = cut_off(&histogram, wanted).0;
    let mut within = collect_within(g, code, guess);
    if within.len() < RERANKED && guess < u8::MAX {
        within = collect_within(g, code, u8::MAX);
    }
    let mut histogram = [0usize; 256];
    for (d, _) in &within {
        histogram[usize::from(*d)] += 1;
    }
    let (cut, below) = cut_off(&histogram, RERANKED);
    let mut at_cut = RERANKED.saturating_sub(below);
    within
        .into_iter()
        .filter(|(d, _)| {
            *d < cut
                || (*d == cut && at_cut > 0 && {
                    at_cut -= 1;
                    true
                })
        })
        .map(|(_, p)| p as usize)
        .collect()
}

/// The smallest distance at which `wanted` rows are reached, and how many lie below it.
fn cut_off(histogram: &[usize; 256], wanted: usize) -> (u8, usize) {
    let (mut cut, mut below) = (0usize, 0usize);
    while cut < 255 && below + histogram[cut] < wanted {
        below += histogram[cut];
        cut += 1;
    }
    (cut as u8, below)
}

/// Every template's (code distance, position) within `limit` of `code`, in gallery order.
fn collect_within(g: &Gallery, code: &[u64], limit: u8) -> Vec<(u8, u32)> {
    let mut within = Vec::with_capacity(4 * RERANKED);
    let mut first = 0u32;
    for chunk in &g.chunks {
        codes::hamming_within(&chunk.codes, code, limit, first, &mut within);
        first += chunk.len() as u32;
    }
    within
}
