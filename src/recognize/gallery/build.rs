//! Filling a gallery: templates appended chunk by chunk, and the sign codes made once the
//! gallery is large enough to be searched through them.

use std::collections::HashSet;
use std::sync::Arc;

use super::chunk::{CHUNK_ROWS, Chunk};
use super::codes::Coder;
use super::{Gallery, INDEXED_FROM};
use crate::domain::PersonId;

/// Appends templates to a gallery (a new one, or a version of one from which the people about to
/// be added were removed).
#[derive(Debug, Default)]
pub struct GalleryBuilder {
    gallery: Gallery,
    added_people: HashSet<PersonId>,
    skipped: usize,
    code: Vec<u64>,
    scratch: Vec<f32>,
}

impl GalleryBuilder {
    /// Appends to `gallery`, which must hold none of the people to be pushed.
    pub(super) fn extending(gallery: Gallery) -> Self {
        Self {
            gallery,
            ..Self::default()
        }
    }

    /// Adds one template of `person`. A template of another dimension than the first (another
    /// model's) cannot be compared and is left out, with a warning at the end.
    pub fn push(&mut self, person: &PersonId, values: &[f32]) {
        let g = &mut self.gallery;
        if g.dim == 0 {
            g.dim = values.len();
        }
        if values.len() != g.dim {
            self.skipped += 1;
            return;
        }
        if g.chunks.last().is_none_or(|c| c.len() >= CHUNK_ROWS) {
            g.chunks.push(Arc::new(Chunk::default()));
        }
        self.code.clear();
        if let Some(coder) = &g.coder {
            coder.encode(values, &mut self.scratch, &mut self.code);
        }
        let last = g.chunks.last_mut().expect("a chunk was just ensured");
        Arc::make_mut(last).push(person, values, &self.code);
        g.templates += 1;
        if !self.added_people.contains(person) {
            self.added_people.insert(person.clone());
        }
    }

    pub fn build(self) -> Gallery {
        let mut g = self.gallery;
        if self.skipped > 0 {
            tracing::warn!(
                skipped = self.skipped,
                dimension = g.dim,
                "templates of another dimension were left out of the gallery"
            );
        }
        g.people += self.added_people.len();
        if g.coder.is_none() && g.templates >= INDEXED_FROM {
            index(&mut g);
        }
        g
    }
}

/// Centres a coder on the gallery and encodes every template, the chunks split among the cores.
fn index(g: &mut Gallery) {
    let dim = g.dim;
    let coder = Arc::new(Coder::fit(
        dim,
        g.chunks.iter().flat_map(|c| c.values.chunks_exact(dim)),
    ));
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_thread = g.chunks.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        for group in g.chunks.chunks_mut(per_thread) {
            let coder = &coder;
            scope.spawn(move || {
                let mut scratch = Vec::new();
                for chunk in group {
                    let Chunk { values, codes, .. } = Arc::make_mut(chunk);
                    codes.clear();
                    codes.reserve_exact(values.len() / dim * coder.words());
                    for row in values.chunks_exact(dim) {
                        coder.encode(row, &mut scratch, codes);
                    }
                }
            });
        }
    });
    g.coder = Some(coder);
}
