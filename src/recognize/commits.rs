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
