//! Negative examples: faces marked "not this person" in review. A match of a person is refused
//! when the face is at least as close to one of their negatives as to the person themselves: it
//! looks more like the impostor once taken for them than like them. Their own faces, nearer to
//! their templates than to any impostor, are still accepted.

use std::collections::HashMap;
use std::sync::Arc;

use super::Gallery;
use crate::domain::{Embedding, Metric, PersonId};

/// Each person's negative examples, shared between gallery versions (they are few).
pub(super) type Negatives = Arc<HashMap<PersonId, Vec<Embedding>>>;

impl Gallery {
    /// This gallery with `person`'s negative examples replaced by `negatives` (none: cleared).
    pub fn with_negatives(&self, person: &PersonId, negatives: Vec<Embedding>) -> Gallery {
        let mut all = (*self.negatives).clone();
        if negatives.is_empty() {
            all.remove(person);
        } else {
            all.insert(person.clone(), negatives);
        }
        Gallery {
            negatives: Arc::new(all),
            ..self.clone()
        }
    }

    /// How many negative examples the gallery holds.
    pub fn negatives(&self) -> usize {
        self.negatives.values().map(Vec::len).sum()
    }

    /// Whether a match of `person` at `distance` is refused by one of their negative examples.
    pub fn refuses(&self, person: &PersonId, embedding: &Embedding, distance: f32, metric: Metric) -> bool {
        self.negatives.get(person).is_some_and(|negatives| {
            negatives
                .iter()
                .any(|n| metric.distance_of(n.values(), embedding.values()) <= distance)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{EMBEDDING_DIM, Template};
    use crate::recognize::gallery::{Identity, MatchRule};

    fn emb(first: f32) -> Embedding {
        let mut v = vec![0.0; EMBEDDING_DIM];
        v[0] = first;
        Embedding::new(v).unwrap()
    }

    #[test]
    fn a_negative_refuses_the_faces_nearer_to_it_than_to_the_person() {
        let x = PersonId::parse("x").unwrap();
        let rule = MatchRule::new(Metric::L2, 0.55);
        let g = Gallery::new(vec![Template {
            person: x.clone(),
            embedding: emb(0.0),
        }]);
        // The impostor at 0.5 is taken for x; marked, faces around it are refused.
        assert!(matches!(g.identify(&emb(0.5), rule), Identity::Known { .. }));
        let marked = g.with_negatives(&x, vec![emb(0.5)]);
        assert_eq!(marked.negatives(), 1);
        assert_eq!(
            marked.identify(&emb(0.45), rule),
            Identity::Unknown { nearest: Some(0.45) }
        );
        assert!(
            matches!(marked.identify(&emb(0.2), rule), Identity::Known { .. }),
            "x's own face"
        );
        assert_eq!(marked.with_negatives(&x, Vec::new()).negatives(), 0);
        assert_eq!(g.negatives(), 0, "versions do not share a change");
    }
}
