//! Attendance against the ground truth: each enrolled person's pass must give one event for
//! them; a stranger's pass none, and one unknown-face event.

use serde::Serialize;

use super::scene::Pass;
use crate::domain::{AttendanceEvent, UnknownFaceEvent};

/// Who passed one camera: the passes, and each person's label and whether they are enrolled.
pub struct Truth<'a> {
    pub camera: &'a str,
    pub passes: &'a [Pass],
    pub labels: &'a [String],
    pub enrolled: &'a [bool],
}

#[derive(Debug, Default, Clone, Serialize, PartialEq)]
pub struct Score {
    pub enrolled_passes: usize,
    pub stranger_passes: usize,
    /// Enrolled passes without an event for the person.
    pub missed: usize,
    /// Events beyond the first for a pass, or outside every pass.
    pub extra: usize,
    /// Events naming an enrolled person other than the one passing.
    pub wrong_person: usize,
    /// Events during a stranger's pass.
    pub stranger_attendance: usize,
    /// Unknown-face events during stranger passes, and the passes with exactly one.
    pub unknown_events_in_stranger_passes: usize,
    pub stranger_passes_with_one_unknown: usize,
    /// Unknown-face events during enrolled people's passes (a known face judged unknown).
    pub unknown_events_in_enrolled_passes: usize,
}

impl Score {
    pub fn add(&mut self, other: &Score) {
        self.enrolled_passes += other.enrolled_passes;
        self.stranger_passes += other.stranger_passes;
        self.missed += other.missed;
        self.extra += other.extra;
        self.wrong_person += other.wrong_person;
        self.stranger_attendance += other.stranger_attendance;
        self.unknown_events_in_stranger_passes += other.unknown_events_in_stranger_passes;
        self.stranger_passes_with_one_unknown += other.stranger_passes_with_one_unknown;
        self.unknown_events_in_enrolled_passes += other.unknown_events_in_enrolled_passes;
    }

    /// Scores one camera's events. An event belongs to the passes whose frames hold its frame
    /// (a track's first frame): to the one of its person if any, else it is wrong.
    pub fn of(truth: &Truth<'_>, events: &[AttendanceEvent], unknown: &[UnknownFaceEvent]) -> Score {
        let mut score = Score::default();
        let mut hits = vec![0usize; truth.passes.len()];
        let during = |seq: u64| {
            truth
                .passes
                .iter()
                .enumerate()
                .filter(move |(_, p)| (p.first..=p.last).contains(&seq))
        };
        for event in events.iter().filter(|e| e.camera_id.as_str() == truth.camera) {
            let mut around = during(event.frame_seq).peekable();
            if around.peek().is_none() {
                score.extra += 1;
                continue;
            }
            let around: Vec<_> = around.collect();
            let own = around
                .iter()
                .find(|(_, p)| truth.enrolled[p.person] && truth.labels[p.person] == event.person_id.as_str());
            match own {
                Some((i, _)) => hits[*i] += 1,
                None if around.iter().all(|(_, p)| !truth.enrolled[p.person]) => score.stranger_attendance += 1,
                None => score.wrong_person += 1,
            }
        }
        let mut unknown_hits = vec![0usize; truth.passes.len()];
        for event in unknown.iter().filter(|e| e.camera_id.as_str() == truth.camera) {
            // With two people in the picture, the unknown one is the stranger.
            let around: Vec<_> = during(event.frame_seq).collect();
            let target = around
                .iter()
                .find(|(_, p)| !truth.enrolled[p.person])
                .or(around.first());
            if let Some((i, _)) = target {
                unknown_hits[*i] += 1;
            }
        }
        for (i, pass) in truth.passes.iter().enumerate() {
            if truth.enrolled[pass.person] {
                score.enrolled_passes += 1;
                if hits[i] == 0 {
                    score.missed += 1;
                }
                score.extra += hits[i].saturating_sub(1);
                score.unknown_events_in_enrolled_passes += unknown_hits[i];
            } else {
                score.stranger_passes += 1;
                score.unknown_events_in_stranger_passes += unknown_hits[i];
                score.stranger_passes_with_one_unknown += usize::from(unknown_hits[i] == 1);
            }
        }
        score
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::stream::scene::Path;
    use crate::domain::{CameraId, FaceBox, PersonId};

    fn pass(person: usize, first: u64, last: u64) -> Pass {
        Pass {
            person,
            first,
            last,
            path: Path::Peek,
            lane: 0.4,
        }
    }

    fn event(person: &str, seq: u64) -> AttendanceEvent {
        let b = FaceBox { x: 0, y: 0, w: 1, h: 1 };
        AttendanceEvent::new(
            PersonId::parse(person).unwrap(),
            CameraId::parse("door").unwrap(),
            seq,
            chrono::Utc::now(),
            0.4,
            b,
            "m",
        )
    }

    #[test]
    fn events_are_scored_against_the_passes() {
        let passes = [pass(0, 10, 20), pass(1, 30, 40), pass(2, 50, 60), pass(0, 70, 80)];
        let labels = ["ann".to_string(), "bob".to_string(), "eve".to_string()];
        let truth = Truth {
            camera: "door",
            passes: &passes,
            labels: &labels,
            enrolled: &[true, true, false],
        };
        let events = [
            event("ann", 12),
            event("ann", 15),
            event("ann", 33),
            event("bob", 55),
            event("bob", 90),
        ];
        let score = Score::of(&truth, &events, &[]);
        assert_eq!(score.enrolled_passes, 3);
        assert_eq!(score.stranger_passes, 1);
        assert_eq!(score.missed, 2, "bob's pass had only ann; ann's second pass nothing");
        assert_eq!(score.extra, 2, "ann twice in one pass; bob outside every pass");
        assert_eq!(score.wrong_person, 1);
        assert_eq!(score.stranger_attendance, 1);
        assert_eq!(score.stranger_passes_with_one_unknown, 0);
    }
}
