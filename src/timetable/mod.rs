//! Timetables: a group's scheduled sessions (once or weekly, local times in a time zone, across
//! midnight and daylight-saving changes) and who was present, late, left early or absent in one,
//! as pure functions of the schedule, the roster and the sightings. The `sessions` module reads
//! them from the store; this one knows nothing of storage.

pub mod assess;
pub mod schedule;
pub mod spec;

pub use assess::{PersonOutcome, Phase, Sighting, Status, assess};
use chrono::NaiveTime;
pub use schedule::{Occurrence, Recurrence, ScheduleError, Timing, local_instant, parse_time_zone};

/// A group's schedule as stored: its id, its group, the cameras that count, and its timing.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub id: String,
    pub group_id: String,
    pub name: String,
    /// Camera ids whose sightings count; with `locations` empty too, every camera counts.
    pub cameras: Vec<String>,
    /// Camera locations (as registered) whose cameras' sightings count as well.
    pub locations: Vec<String>,
    pub timing: Timing,
    /// Bumped by every edit.
    pub version: i64,
}

/// Times are kept as `HH:MM` (or `HH:MM:SS`), as people write them.
pub fn parse_time(raw: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(raw, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(raw, "%H:%M:%S"))
        .ok()
}

pub fn format_time(t: NaiveTime) -> String {
    if t.format("%S").to_string() == "00" {
        t.format("%H:%M").to_string()
    } else {
        t.format("%H:%M:%S").to_string()
    }
}

impl Schedule {
    /// The cameras whose sightings count, from the register (id → location); None for all.
    pub fn counted_cameras<'a>(&self, register: impl IntoIterator<Item = (&'a str, &'a str)>) -> Option<Vec<String>> {
        if self.cameras.is_empty() && self.locations.is_empty() {
            return None;
        }
        let mut counted = self.cameras.clone();
        counted.extend(
            register
                .into_iter()
                .filter(|(_, location)| self.locations.iter().any(|l| l == location))
                .map(|(id, _)| id.to_owned()),
        );
        counted.sort();
        counted.dedup();
        Some(counted)
    }
}

/// Minutes after the start that still count as on time, unless a schedule says otherwise.
pub const DEFAULT_GRACE_MINUTES: u32 = 5;
/// Minutes before the end that a person may leave without leaving early, unless a schedule says otherwise.
pub const DEFAULT_EARLY_LEAVE_MINUTES: u32 = 5;
/// How long before the start (and after the end) sightings count, unless a schedule says otherwise.
pub const DEFAULT_WINDOW_MINUTES: u32 = 60;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_schedule_counts_its_cameras_and_the_cameras_at_its_locations() {
        let spec: spec::ScheduleSpec = serde_json::from_value(serde_json::json!({
            "kind": "once", "date": "2026-11-23", "start": "09:00", "end": "10:00", "time_zone": "UTC"
        }))
        .unwrap();
        let mut s = spec.into_schedule("s", "g").unwrap();
        let register = [("door", "hall"), ("gate", "yard"), ("lab", "hall")];
        assert_eq!(s.counted_cameras(register), None, "neither given: every camera");
        s.locations = vec!["hall".into()];
        assert_eq!(s.counted_cameras(register), Some(vec!["door".into(), "lab".into()]));
        s.cameras = vec!["gate".into()];
        assert_eq!(s.counted_cameras(register).unwrap().len(), 3);
        s.cameras.clear();
        s.locations = vec!["nowhere".into()];
        assert_eq!(
            s.counted_cameras(register),
            Some(vec![]),
            "a location without cameras counts none"
        );
    }
}
