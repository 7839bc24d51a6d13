//! Which frames a recognizer may commit in track mode. A camera's state at a frame where the
//! detector ran with no track open depends on that frame alone (an anchor); a restart that
//! reads each camera again from its latest anchor decides exactly as an uninterrupted run. So
//! offsets are committed only up to the oldest anchor of the partition's cameras.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, TimeDelta, Utc};

use crate::bus::Position;
use crate::domain::CameraId;

/// A camera's latest anchor, and when its last frame was captured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct CameraMark {
    anchor: i64,
    last_captured: DateTime<Utc>,
}

/// The commit positions of one worker, partition by partition.
#[derive(Debug, Default)]
pub struct HeldCommits {
    marks: HashMap<i32, BTreeMap<CameraId, CameraMark>>,
    next: HashMap<i32, i64>,
    committed: HashMap<i32, i64>,
    latest_capture: HashMap<i32, DateTime<Utc>>,
}

impl HeldCommits {
    /// Notes where `position`'s partition is read; when it did not continue where this worker
    /// left it (a restart, a rebalance), the partition's cameras are returned: their state is
    /// out of date and must be forgotten.
    pub fn follow(&mut self, position: Position) -> Option<Vec<CameraId>> {
        let expected = self.next.insert(position.partition, position.offset + 1);
        if expected.is_none_or(|next| next == position.offset) {
            return None;
        }
        self.committed.remove(&position.partition);
        self.latest_capture.remove(&position.partition);
        let cameras = self.marks.remove(&position.partition).unwrap_or_default();
        Some(cameras.into_keys().collect())
    }

    /// Takes a judged frame of `camera`; `anchor` says whether the frame is one. Returns the
    /// position to commit, if the commit may move.
    pub fn processed(
        &mut self,
        camera: &CameraId,
        position: Position,
        captured_at: DateTime<Utc>,
        anchor: bool,
        idle_after: TimeDelta,
    ) -> Option<Position> {
        let marks = self.marks.entry(position.partition).or_default();
        match marks.get_mut(camera) {
            Some(mark) => {
                mark.last_captured = captured_at;
                if anchor {
                    mark.anchor = position.offset;
                }
            }
            None => {
                // A camera's first frame here always runs the detector from an empty state.
                marks.insert(
                    camera.clone(),
                    CameraMark {
                        anchor: position.offset,
                        last_captured: captured_at,
                    },
                );
            }
        }
        let latest = self.latest_capture.entry(position.partition).or_insert(captured_at);
        *latest = (*latest).max(captured_at);
        self.passed(position, Some(idle_after))
    }

    /// Takes `camera`'s end-of-stream marker: the camera holds nothing open after it, so it no
    /// longer holds the commit back, and the marker itself need not come again.
    pub fn ended(&mut self, camera: &CameraId, position: Position, idle_after: TimeDelta) -> Option<Position> {
        if let Some(marks) = self.marks.get_mut(&position.partition) {
            marks.remove(camera);
        }
        self.passed(position, Some(idle_after))
    }

    /// The position to commit after `position` (also a frame that was dead-lettered), if the
    /// commit may move. A camera idle for `idle_after` of capture time no longer holds it back:
    /// its next frame cannot continue its old state (see `TrackConfig::reference_gap_ms`).
    pub fn passed(&mut self, position: Position, idle_after: Option<TimeDelta>) -> Option<Position> {
        let latest = self.latest_capture.get(&position.partition).copied();
        let marks = self.marks.entry(position.partition).or_default();
        if let (Some(latest), Some(idle_after)) = (latest, idle_after) {
            marks.retain(|_, mark| latest - mark.last_captured <= idle_after);
        }
        // Everything before the oldest anchor is settled; the anchor itself must come again.
        let safe = marks
            .values()
            .map(|mark| mark.anchor - 1)
            .min()
            .unwrap_or(position.offset)
            .min(position.offset);
        let committed = self.committed.entry(position.partition).or_insert(-1);
        if safe <= *committed {
            return None;
        }
        *committed = safe;
        Some(Position {
            partition: position.partition,
            offset: safe,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(partition: i32, offset: i64) -> Position {
        Position { partition, offset }
    }

    fn second(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap()
    }

    #[test]
    fn commits_stop_before_the_oldest_anchor_and_pass_an_ended_camera() {
        let (door, gate) = (CameraId::parse("door").unwrap(), CameraId::parse("gate").unwrap());
        let gap = TimeDelta::seconds(10);
        let mut commits = HeldCommits::default();
        // Each camera's first frame is an anchor; the one before it is settled.
        assert_eq!(commits.processed(&door, at(0, 0), second(0), true, gap), None);
        assert_eq!(commits.processed(&gate, at(0, 1), second(0), true, gap), None);
        // Frames inside open tracks do not move the commit.
        assert_eq!(commits.processed(&door, at(0, 2), second(1), false, gap), None);
        assert_eq!(commits.processed(&gate, at(0, 3), second(1), true, gap), None);
        // The door's new anchor leaves the gate's (offset 3) the oldest.
        assert_eq!(commits.processed(&door, at(0, 4), second(2), true, gap), Some(at(0, 2)));
        // The gate's stream ends: only the door's anchor holds the commit now.
        assert_eq!(commits.ended(&gate, at(0, 5), gap), Some(at(0, 3)));
        assert_eq!(commits.ended(&door, at(0, 6), gap), Some(at(0, 6)));
        // Another partition keeps its own marks.
        assert_eq!(commits.processed(&door, at(1, 0), second(3), true, gap), None);
    }

    #[test]
    fn an_idle_camera_stops_holding_the_commit_back() {
        let (door, gate) = (CameraId::parse("door").unwrap(), CameraId::parse("gate").unwrap());
        let gap = TimeDelta::seconds(10);
        let mut commits = HeldCommits::default();
        commits.processed(&door, at(0, 0), second(0), true, gap);
        commits.processed(&gate, at(0, 1), second(0), true, gap);
        assert_eq!(commits.processed(&gate, at(0, 2), second(5), true, gap), None);
        // Eleven seconds of gate frames without a door frame: the door is idle.
        assert_eq!(
            commits.processed(&gate, at(0, 3), second(11), true, gap),
            Some(at(0, 2))
        );
    }

    #[test]
    fn a_rewound_partition_forgets_its_cameras() {
        let door = CameraId::parse("door").unwrap();
        let gap = TimeDelta::seconds(10);
        let mut commits = HeldCommits::default();
        assert_eq!(commits.follow(at(0, 0)), None);
        commits.processed(&door, at(0, 0), second(0), true, gap);
        assert_eq!(commits.follow(at(0, 1)), None);
        assert_eq!(commits.follow(at(0, 0)), Some(vec![door]));
    }
}
