//! The enrolled gallery in memory and top-1 matching of embeddings against it.

mod build;
mod chunk;
mod codes;
mod negatives;
mod search;
mod shared;

use std::sync::Arc;

use crate::domain::{Embedding, Metric, PersonId};

pub use crate::domain::Template;
pub use build::GalleryBuilder;
pub use shared::SharedGallery;

use chunk::Chunk;
use codes::Coder;

/// Who a face is, as far as the gallery can tell.
#[derive(Debug, Clone, PartialEq)]
pub enum Identity {
    Known {
        person: PersonId,
        distance: f32,
    },
    /// Nobody within the threshold; `nearest` is the closest template's distance, if any.
    Unknown {
        nearest: Option<f32>,
    },
}

/// When a face is someone: the recognizer's metric and the largest distance still accepted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MatchRule {
    pub metric: Metric,
    pub threshold: f32,
}

impl MatchRule {
    pub fn new(metric: Metric, threshold: f32) -> Self {
        Self { metric, threshold }
    }
}

/// From this many templates the gallery searches through sign codes (`codes.rs`) and ranks
/// only the nearest [`RERANKED`] exactly; below it every template is compared, which takes a
/// millisecond or two at most.
pub const INDEXED_FROM: usize = 20_000;

/// Templates ranked by their exact distance after the code scan.
pub const RERANKED: usize = 4_096;

/// All templates of one recognizer model, in contiguous chunks shared between versions: a
/// change copies only the chunks it touches. Immutable; a change makes a new version.
#[derive(Debug, Clone, Default)]
pub struct Gallery {
    /// The embeddings' dimension (0 while empty).
    dim: usize,
    chunks: Vec<Arc<Chunk>>,
    /// Present once the gallery has reached [`INDEXED_FROM`] templates; kept from then on, so a
    /// template is encoded once.
    coder: Option<Arc<Coder>>,
    templates: usize,
    people: usize,
    /// The store's gallery generation (`cache::keys::gallery`) this gallery has every change
    /// up to, when known.
    generation: Option<i64>,
    negatives: negatives::Negatives,
}

impl Gallery {
    pub fn new(templates: Vec<Template>) -> Self {
        let mut builder = GalleryBuilder::default();
        for t in &templates {
            builder.push(&t.person, t.embedding.values());
        }
        builder.build()
    }

    pub fn len(&self) -> usize {
        self.templates
    }

    pub fn is_empty(&self) -> bool {
        self.templates == 0
    }

    pub fn people(&self) -> usize {
        self.people
    }

    pub fn generation(&self) -> Option<i64> {
        self.generation
    }

    /// This gallery, marked as having every change up to `generation`.
    pub fn at_generation(mut self, generation: Option<i64>) -> Gallery {
        self.generation = generation;
        self
    }

    /// Whether the nearest templates are found through the sign codes.
    pub fn is_indexed(&self) -> bool {
        self.coder.is_some() && self.templates >= INDEXED_FROM
    }

    /// Heap bytes held by the templates, their codes and owners.
    pub fn bytes(&self) -> usize {
        self.chunks.iter().map(|c| c.bytes()).sum()
    }

    /// The nearest template and its distance by `metric`.
    pub fn nearest(&self, embedding: &Embedding, metric: Metric) -> Option<(&PersonId, f32)> {
        let query = embedding.values();
        let (chunk, row) = search::nearest(self, query, metric)?;
        Some((chunk.owner(row), metric.distance_of(chunk.row(row, self.dim), query)))
    }

    /// The nearest person and the distance to the nearest *other* person: how clearly the face
    /// is that person and nobody else (a track's decision wants a margin between the two).
    pub fn nearest_two_people(&self, embedding: &Embedding, metric: Metric) -> Option<(&PersonId, f32, Option<f32>)> {
        let query = embedding.values();
        let (first, second) = search::nearest_two_people(self, query, metric)?;
        let distance = |(chunk, row): (&Chunk, usize)| metric.distance_of(chunk.row(row, self.dim), query);
        Some((first.0.owner(first.1), distance(first), second.map(distance)))
    }

    /// Top-1 by distance; a match must be strictly closer than the rule's threshold, and not
    /// refused by the person's negative examples (`negatives.rs`).
    pub fn identify(&self, embedding: &Embedding, rule: MatchRule) -> Identity {
        match self.nearest(embedding, rule.metric) {
            Some((person, distance))
                if distance < rule.threshold && !self.refuses(person, embedding, distance, rule.metric) =>
            {
                Identity::Known {
                    person: person.clone(),
                    distance,
                }
            }
            Some((_, distance)) => Identity::Unknown {
                nearest: Some(distance),
            },
            None => Identity::Unknown { nearest: None },
        }
    }

    /// This gallery without `person`: only the chunks holding their templates are copied.
    pub fn without_person(&self, person: &PersonId) -> Gallery {
        let words = self.coder.as_ref().map_or(0, |c| c.words());
        let mut next = Gallery {
            chunks: Vec::with_capacity(self.chunks.len()),
            ..self.clone_shell()
        };
        let mut removed = 0;
        for chunk in &self.chunks {
            if !chunk.holds(person) {
                next.chunks.push(Arc::clone(chunk));
                continue;
            }
            let kept = chunk.without(person, self.dim, words);
            removed += chunk.len() - kept.len();
            if kept.len() > 0 {
                next.chunks.push(Arc::new(kept));
            }
        }
        next.templates -= removed;
        if removed > 0 {
            next.people -= 1;
        }
        next
    }

    /// This gallery with `person`'s templates replaced by `embeddings` (none: erased).
    pub fn with_person(&self, person: &PersonId, embeddings: &[Embedding]) -> Gallery {
        let mut builder = GalleryBuilder::extending(self.without_person(person));
        for e in embeddings {
            builder.push(person, e.values());
        }
        builder.build()
    }

    fn clone_shell(&self) -> Gallery {
        Gallery {
            dim: self.dim,
            chunks: Vec::new(),
            coder: self.coder.clone(),
            templates: self.templates,
            people: self.people,
            generation: self.generation,
            negatives: self.negatives.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::EMBEDDING_DIM;

    const L2_055: MatchRule = MatchRule {
        metric: Metric::L2,
        threshold: 0.55,
    };

    fn emb(first: f32) -> Embedding {
        let mut v = vec![0.0; EMBEDDING_DIM];
        v[0] = first;
        Embedding::new(v).unwrap()
    }

    fn template(person: &str, first: f32) -> Template {
        Template {
            person: PersonId::parse(person).unwrap(),
            embedding: emb(first),
        }
    }

    #[test]
    fn picks_the_nearest_under_threshold() {
        let g = Gallery::new(vec![template("a", 0.0), template("b", 1.0), template("b", 0.45)]);
        assert_eq!(g.people(), 2);
        assert_eq!(
            g.identify(&emb(0.5), L2_055),
            Identity::Known {
                person: PersonId::parse("b").unwrap(),
                distance: 0.050000012
            }
        );
        assert_eq!(
            g.identify(&emb(0.1), L2_055),
            Identity::Known {
                person: PersonId::parse("a").unwrap(),
                distance: 0.1
            }
        );
    }

    #[test]
    fn nearest_two_people_gives_the_margin_to_another_person() {
        let g = Gallery::new(vec![
            template("a", 0.3),
            template("b", 1.0),
            template("a", 0.1),
            template("b", 0.6),
        ]);
        let (person, best, second) = g.nearest_two_people(&emb(0.0), Metric::L2).unwrap();
        assert_eq!(person.as_str(), "a");
        assert!((best - 0.1).abs() < 1e-6);
        assert!(
            (second.unwrap() - 0.6).abs() < 1e-6,
            "the second is the nearest template of b, not a's other one"
        );
        let lone = Gallery::new(vec![template("a", 0.0)]);
        assert_eq!(lone.nearest_two_people(&emb(0.0), Metric::L2).unwrap().2, None);
    }

    #[test]
    fn unknown_beyond_threshold_or_empty() {
        let g = Gallery::new(vec![template("a", 0.0)]);
        assert_eq!(
            g.identify(&emb(0.55), L2_055),
            Identity::Unknown { nearest: Some(0.55) }
        );
        assert_eq!(
            Gallery::default().identify(&emb(0.0), L2_055),
            Identity::Unknown { nearest: None }
        );
    }

    #[test]
    fn the_rule_s_metric_decides_the_distance() {
        let long = |x: f32, y: f32| {
            let mut v = vec![0.0; EMBEDDING_DIM];
            v[0] = x;
            v[1] = y;
            Embedding::new(v).unwrap()
        };
        // Same direction, twice as long: far by L2, identical by angle.
        let g = Gallery::new(vec![Template {
            person: PersonId::parse("a").unwrap(),
            embedding: long(1.0, 1.0),
        }]);
        let probe = long(2.0, 2.0);
        assert!(matches!(g.identify(&probe, L2_055), Identity::Unknown { .. }));
        let cosine = MatchRule::new(Metric::Cosine, 0.07);
        assert!(matches!(g.identify(&probe, cosine), Identity::Known { distance, .. } if distance.abs() < 1e-6));
    }

    /// Pseudo-random templates, five per person.
    fn crowd(n: usize) -> Vec<Template> {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        };
        (0..n)
            .map(|i| Template {
                person: PersonId::parse(format!("p{}", i / 5)).unwrap(),
                embedding: Embedding::new((0..EMBEDDING_DIM).map(|_| next()).collect()).unwrap(),
            })
            .collect()
    }

    #[test]
    fn a_large_gallery_finds_each_template_and_a_change_copies_only_its_chunks() {
        let templates = crowd(INDEXED_FROM + 1_000);
        let g = Gallery::new(templates.clone());
        assert!(g.is_indexed());
        assert_eq!((g.len(), g.people()), (templates.len(), templates.len() / 5));
        for t in templates.iter().step_by(997) {
            assert_eq!(g.nearest(&t.embedding, Metric::L2), Some((&t.person, 0.0)));
        }

        let victim = &templates[7_000];
        let erased = g.without_person(&victim.person);
        assert_eq!((erased.len(), erased.people()), (g.len() - 5, g.people() - 1));
        assert_ne!(erased.nearest(&victim.embedding, Metric::L2).unwrap().0, &victim.person);
        let shared = erased
            .chunks
            .iter()
            .filter(|c| g.chunks.iter().any(|old| Arc::ptr_eq(c, old)))
            .count();
        assert_eq!(shared, g.chunks.len() - 1, "only the victim's chunk was copied");

        let back = erased.with_person(&victim.person, std::slice::from_ref(&victim.embedding));
        assert_eq!(back.nearest(&victim.embedding, Metric::L2), Some((&victim.person, 0.0)));
        assert_eq!((back.len(), back.people()), (g.len() - 4, g.people()));
    }
}
