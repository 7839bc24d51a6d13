//! The enrolled gallery in memory and top-1 matching of embeddings against it.

use crate::domain::{Embedding, PersonId};

/// One enrolled template.
#[derive(Debug, Clone)]
pub struct Template {
    pub person: PersonId,
    pub embedding: Embedding,
}

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

/// All templates of one recognizer model. Matching is a linear scan: 128 floats per template,
/// so a few thousand people take well under a millisecond, and no index can go stale.
#[derive(Debug, Clone, Default)]
pub struct Gallery {
    templates: Vec<Template>,
}

impl Gallery {
    pub fn new(templates: Vec<Template>) -> Self {
        Self { templates }
    }

    pub fn len(&self) -> usize {
        self.templates.len()
    }

    pub fn is_empty(&self) -> bool {
        self.templates.is_empty()
    }

    pub fn people(&self) -> usize {
        let mut ids: Vec<&PersonId> = self.templates.iter().map(|t| &t.person).collect();
        ids.sort();
        ids.dedup();
        ids.len()
    }

    /// The nearest template and its distance.
    pub fn nearest(&self, embedding: &Embedding) -> Option<(&PersonId, f32)> {
        self.templates
            .iter()
            .map(|t| (&t.person, t.embedding.distance(embedding)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
    }

    /// Top-1 by distance; a match must be strictly closer than `threshold`.
    pub fn identify(&self, embedding: &Embedding, threshold: f32) -> Identity {
        match self.nearest(embedding) {
            Some((person, distance)) if distance < threshold => Identity::Known {
                person: person.clone(),
                distance,
            },
            Some((_, distance)) => Identity::Unknown {
                nearest: Some(distance),
            },
            None => Identity::Unknown { nearest: None },
        }
    }
}

/// The gallery that recognizer workers read; replaced whole when enrolment changes, so a match
/// never sees half an update. A std lock: it is held only to clone an `Arc`.
#[derive(Debug, Clone, Default)]
pub struct SharedGallery(std::sync::Arc<std::sync::RwLock<std::sync::Arc<Gallery>>>);

impl SharedGallery {
    pub fn new(gallery: Gallery) -> Self {
        report(&gallery);
        Self(std::sync::Arc::new(std::sync::RwLock::new(std::sync::Arc::new(
            gallery,
        ))))
    }

    pub fn current(&self) -> std::sync::Arc<Gallery> {
        std::sync::Arc::clone(&self.0.read().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }

    pub fn replace(&self, gallery: Gallery) {
        report(&gallery);
        *self.0.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = std::sync::Arc::new(gallery);
    }
}

/// Publishes the size of the gallery now in use, and counts the change.
fn report(gallery: &Gallery) {
    let m = crate::metrics::metrics();
    m.recognize_gallery_templates.set(gallery.len() as i64);
    m.recognize_gallery_people.set(gallery.people() as i64);
    m.recognize_gallery_version.inc();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::EMBEDDING_DIM;

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
            g.identify(&emb(0.5), 0.55),
            Identity::Known {
                person: PersonId::parse("b").unwrap(),
                distance: 0.050000012
            }
        );
        assert_eq!(
            g.identify(&emb(0.1), 0.55),
            Identity::Known {
                person: PersonId::parse("a").unwrap(),
                distance: 0.1
            }
        );
    }

    #[test]
    fn unknown_beyond_threshold_or_empty() {
        let g = Gallery::new(vec![template("a", 0.0)]);
        assert_eq!(g.identify(&emb(0.55), 0.55), Identity::Unknown { nearest: Some(0.55) });
        assert_eq!(
            Gallery::default().identify(&emb(0.0), 0.55),
            Identity::Unknown { nearest: None }
        );
    }
}
