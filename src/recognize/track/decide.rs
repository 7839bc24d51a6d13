//! When a track is a person: the votes of its embeddings, each for the nearest person when that
//! person is within the threshold and clearly nearer than anyone else, and at the track's end the
//! vote of all its embeddings pooled.

use serde::{Deserialize, Serialize};

use crate::domain::{Embedding, PersonId};
use crate::recognize::gallery::{Gallery, MatchRule};

/// The rule a track's evidence must meet (`[recognize.track]`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DecisionRule {
    /// Embeddings that must vote for the same person, with none for anyone else, before a
    /// track is decided while it is still open.
    pub agree: usize,
    /// One embedding this close decides at once (it must still have the margin).
    pub sure_distance: f32,
    /// How much nearer the voted person must be than the second-nearest person.
    pub margin: f32,
}

impl Default for DecisionRule {
    fn default() -> Self {
        Self {
            agree: 2,
            sure_distance: 0.42,
            margin: 0.06,
        }
    }
}

/// What one embedding of a track says.
#[derive(Debug, Clone, PartialEq)]
pub struct Vote {
    /// The nearest person, if within the threshold and the margin.
    pub person: Option<PersonId>,
    /// The distance to the nearest person, if the gallery is not empty.
    pub distance: Option<f32>,
}

impl Vote {
    /// The vote of `embedding` in `gallery` (`cast`), except for a person whose negative
    /// examples refuse the match: that is no vote for them.
    pub fn in_gallery(embedding: &Embedding, gallery: &Gallery, rule: MatchRule, decision: &DecisionRule) -> Vote {
        let mut vote = Vote::cast(
            gallery.nearest_two_people(embedding, rule.metric),
            rule.threshold,
            decision,
        );
        if let (Some(person), Some(distance)) = (&vote.person, vote.distance)
            && gallery.refuses(person, embedding, distance, rule.metric)
        {
            vote.person = None;
        }
        vote
    }

    /// The vote of an embedding whose nearest person is `nearest` (with the distance to them
    /// and to the next person), under `threshold`.
    pub fn cast(nearest: Option<(&PersonId, f32, Option<f32>)>, threshold: f32, rule: &DecisionRule) -> Vote {
        let Some((person, distance, second)) = nearest else {
            return Vote {
                person: None,
                distance: None,
            };
        };
        let clear = second.is_none_or(|s| s - distance >= rule.margin);
        Vote {
            person: (distance < threshold && clear).then(|| person.clone()),
            distance: Some(distance),
        }
    }
}

impl DecisionRule {
    /// The person the votes so far name with enough evidence, while the track is open.
    pub fn decide_open(&self, votes: &[Vote]) -> Option<PersonId> {
        let (person, count) = self.leader(votes)?;
        let sure = votes
            .iter()
            .any(|v| v.person.as_ref() == Some(&person) && v.distance.is_some_and(|d| d < self.sure_distance));
        (count >= self.agree || sure).then_some(person)
    }

    /// The person of a track that has ended: the votes for them must be a strict majority of
    /// its embeddings (a single embedding decides a short pass on its own), or the vote of its
    /// embeddings pooled names them and no embedding named anyone else.
    pub fn decide_closed(&self, votes: &[Vote], pooled: Option<&Vote>) -> Option<PersonId> {
        if let Some((person, count)) = self.leader(votes)
            && 2 * count > votes.len()
        {
            return Some(person);
        }
        let person = pooled?.person.clone()?;
        let dissent = votes.iter().any(|v| v.person.as_ref().is_some_and(|p| *p != person));
        (!dissent).then_some(person)
    }

    /// The only person voted for, with their number of votes; `None` without votes or when the
    /// embeddings disagree on who it is.
    fn leader(&self, votes: &[Vote]) -> Option<(PersonId, usize)> {
        let mut voted = votes.iter().filter_map(|v| v.person.as_ref());
        let first = voted.next()?;
        let mut count = 1;
        for other in voted {
            if other != first {
                return None;
            }
            count += 1;
        }
        Some((first.clone(), count))
    }
}

/// The mean of a track's embeddings, from its second on: looks at one face from a few frames,
/// each a little off in its own way, pooled into a steadier one (a face that sits near the
/// threshold in every frame is judged on the average, not on its unluckiest look).
pub fn pooled(looks: &[Embedding]) -> Option<Embedding> {
    let first = looks.first()?;
    if looks.len() < 2 {
        return None;
    }
    let mut sum = vec![0.0f32; first.values().len()];
    for look in looks {
        for (s, v) in sum.iter_mut().zip(look.values()) {
            *s += v;
        }
    }
    let n = looks.len() as f32;
    Embedding::new(sum.into_iter().map(|s| s / n).collect()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vote(person: Option<&str>, distance: f32) -> Vote {
        Vote {
            person: person.map(|p| PersonId::parse(p).unwrap()),
            distance: Some(distance),
        }
    }

    #[test]
    fn a_vote_needs_the_threshold_and_the_margin() {
        let rule = DecisionRule::default();
        let a = PersonId::parse("a").unwrap();
        assert_eq!(
            Vote::cast(Some((&a, 0.5, Some(0.7))), 0.55, &rule).person,
            Some(a.clone())
        );
        assert_eq!(
            Vote::cast(Some((&a, 0.5, Some(0.52))), 0.55, &rule).person,
            None,
            "no margin"
        );
        assert_eq!(
            Vote::cast(Some((&a, 0.56, None)), 0.55, &rule).person,
            None,
            "over the threshold"
        );
        assert_eq!(
            Vote::cast(None, 0.55, &rule),
            Vote {
                person: None,
                distance: None
            }
        );
    }

    #[test]
    fn an_open_track_waits_for_agreement_unless_sure() {
        let rule = DecisionRule::default();
        assert_eq!(rule.decide_open(&[vote(Some("a"), 0.5)]), None);
        assert_eq!(
            rule.decide_open(&[vote(Some("a"), 0.5), vote(None, 0.6), vote(Some("a"), 0.52)])
                .unwrap()
                .as_str(),
            "a"
        );
        assert_eq!(rule.decide_open(&[vote(Some("a"), 0.3)]).unwrap().as_str(), "a");
        assert_eq!(
            rule.decide_open(&[vote(Some("a"), 0.3), vote(Some("b"), 0.3)]),
            None,
            "disagreement"
        );
    }

    #[test]
    fn a_closed_track_needs_a_majority_or_its_pooled_vote() {
        let rule = DecisionRule::default();
        assert_eq!(rule.decide_closed(&[vote(Some("a"), 0.5)], None).unwrap().as_str(), "a");
        let split = [vote(Some("a"), 0.5), vote(None, 0.6)];
        assert_eq!(rule.decide_closed(&split, None), None);
        assert_eq!(rule.decide_closed(&split, Some(&vote(None, 0.56))), None);
        assert_eq!(
            rule.decide_closed(&split, Some(&vote(Some("a"), 0.53)))
                .unwrap()
                .as_str(),
            "a",
            "the pooled face is within the threshold"
        );
        let disputed = [vote(Some("a"), 0.5), vote(Some("b"), 0.5), vote(None, 0.6)];
        assert_eq!(
            rule.decide_closed(&disputed, Some(&vote(Some("a"), 0.5))),
            None,
            "one embedding named someone else"
        );
        assert_eq!(rule.decide_closed(&[], None), None);
    }

    #[test]
    fn pooling_averages_two_looks_or_more() {
        let look = |v: f32| Embedding::new(vec![v, 1.0 - v]).unwrap();
        assert_eq!(pooled(&[look(0.2)]), None, "one look is its own vote");
        assert_eq!(pooled(&[]), None);
        let mean = pooled(&[look(0.2), look(0.4), look(0.6)]).unwrap();
        assert!((mean.values()[0] - 0.4).abs() < 1e-6 && (mean.values()[1] - 0.6).abs() < 1e-6);
    }
}
