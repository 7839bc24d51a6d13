//! Attendance semantics on top of the events: groups with rosters, scheduled sessions, and who was
//! present, late, left early or absent in each, computed from the events on every read (and
//! cached), so a late, repeated or replayed event and an edited schedule always give the answer
//! the events say.

pub mod assess;
pub mod monitor;
pub mod report;
pub mod schedule;
pub mod spec;

pub use assess::{PersonOutcome, Phase, Sighting, Status, assess};
use chrono::NaiveTime;
pub use schedule::{Occurrence, Recurrence, ScheduleError, Timing, local_instant, parse_time_zone};

use crate::store::entities::session_schedule;

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

    /// The schedule of a stored row. Rows are validated before they are written, so a row that
    /// does not parse is corruption, reported as such.
    pub fn from_row(row: &session_schedule::Model) -> anyhow::Result<Schedule> {
        let bad = |what: &str| anyhow::anyhow!("schedule {}: stored {what} is unreadable", row.id);
        let recurrence: Recurrence = serde_json::from_str(&row.recurrence).map_err(|_| bad("recurrence"))?;
        let cameras: Vec<String> = serde_json::from_str(&row.cameras).map_err(|_| bad("cameras"))?;
        let locations: Vec<String> = serde_json::from_str(&row.locations).map_err(|_| bad("locations"))?;
        Ok(Schedule {
            id: row.id.clone(),
            group_id: row.group_id.clone(),
            name: row.name.clone(),
            cameras,
            locations,
            timing: Timing {
                recurrence,
                start: parse_time(&row.start_time).ok_or_else(|| bad("start"))?,
                end: parse_time(&row.end_time).ok_or_else(|| bad("end"))?,
                ends_next_day: row.ends_next_day,
                time_zone: parse_time_zone(&row.time_zone).map_err(|_| bad("time zone"))?,
                grace_minutes: u32::try_from(row.grace_minutes).map_err(|_| bad("grace"))?,
                early_leave_minutes: u32::try_from(row.early_leave_minutes).map_err(|_| bad("early leave"))?,
                window_minutes: u32::try_from(row.window_minutes).map_err(|_| bad("window"))?,
            },
            version: row.version,
        })
    }

    /// The stored row of this schedule, with `created_at`/`updated_at` from the caller.
    pub fn to_row(
        &self,
        created_at: chrono::DateTime<chrono::Utc>,
        updated_at: chrono::DateTime<chrono::Utc>,
    ) -> session_schedule::Model {
        let t = &self.timing;
        session_schedule::Model {
            id: self.id.clone(),
            group_id: self.group_id.clone(),
            name: self.name.clone(),
            recurrence: serde_json::to_string(&t.recurrence).expect("a recurrence serialises"),
            start_time: format_time(t.start),
            end_time: format_time(t.end),
            ends_next_day: t.ends_next_day,
            time_zone: t.time_zone.name().to_owned(),
            cameras: serde_json::to_string(&self.cameras).expect("camera ids serialise"),
            locations: serde_json::to_string(&self.locations).expect("locations serialise"),
            grace_minutes: t.grace_minutes as i32,
            early_leave_minutes: t.early_leave_minutes as i32,
            window_minutes: t.window_minutes as i32,
            version: self.version,
            created_at,
            updated_at,
        }
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
