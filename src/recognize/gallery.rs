//! The enrolled gallery in memory and top-1 matching of embeddings against it.

use crate::domain::{Embedding, Metric, PersonId};

pub use crate::domain::Template;

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

    /// The nearest template and its distance by `metric`.
    pub fn nearest(&self, embedding: &Embedding, metric: Metric) -> Option<(&PersonId, f32)> {
        self.templates
            .iter()
            .map(|t| (&t.person, metric.distance(&t.embedding, embedding)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
    }

    /// The nearest person and the distance to the nearest *other* person: how clearly the face
    /// is that person and nobody else (a track's decision wants a margin between the two).
    pub fn nearest_two_people(&self, embedding: &Embedding, metric: Metric) -> Option<(&PersonId, f32, Option<f32>)> {
        let mut per_person: std::collections::HashMap<&PersonId, f32> = std::collections::HashMap::new();
        for t in &self.templates {
            let d = metric.distance(&t.embedding, embedding);
            let nearest = per_person.entry(&t.person).or_insert(d);
            *nearest = nearest.min(d);
        }
        let mut ranked: Vec<(&PersonId, f32)> = per_person.into_iter().collect();
        // Ties broken by id: the answer must not depend on the map's order.
        ranked.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(b.0)));
        let second = ranked.get(1).map(|(_, d)| *d);
        ranked.first().map(|(person, d)| (*person, *d, second))
    }

    /// Top-1 by distance; a match must be strictly closer than the rule's threshold.
    pub fn identify(&self, embedding: &Embedding, rule: MatchRule) -> Identity {
        match self.nearest(embedding, rule.metric) {
            Some((person, distance)) if distance < rule.threshold => Identity::Known {
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
}
