//! A schedule as people write it (API bodies, CLI files): flat JSON, checked into a `Schedule`
//! with a message saying what is wrong.

use chrono::{NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use super::schedule::{Recurrence, Timing, parse_time_zone};
use super::{
    DEFAULT_EARLY_LEAVE_MINUTES, DEFAULT_GRACE_MINUTES, DEFAULT_WINDOW_MINUTES, Schedule, format_time, parse_time,
};
use crate::domain::{CameraId, PersonId};

/// A schedule: once on `date`, or weekly on `days` (between `from` and `until` when given).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSpec {
    /// Lowercase slug, unique among schedules. Taken from the path when replacing.
    #[serde(default)]
    pub id: Option<String>,
    /// The group whose members attend. Taken from the path when creating under a group.
    #[serde(default)]
    pub group_id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    /// `once` or `weekly`.
    pub kind: String,
    /// The day of a `once` session (local date it starts on).
    #[serde(default, deserialize_with = "crate::domain::dates::checked_opt")]
    pub date: Option<NaiveDate>,
    /// Days of a `weekly` schedule: `mon`, `tue`, … (or full names).
    #[serde(default)]
    pub days: Vec<String>,
    /// First and last local dates of a `weekly` schedule (open when absent).
    #[serde(default, deserialize_with = "crate::domain::dates::checked_opt")]
    pub from: Option<NaiveDate>,
    #[serde(default, deserialize_with = "crate::domain::dates::checked_opt")]
    pub until: Option<NaiveDate>,
    /// Local start and end, `HH:MM`.
    pub start: String,
    pub end: String,
    /// Set for a session that ends on the next day (across midnight); `end` is then before `start`.
    #[serde(default)]
    pub ends_next_day: bool,
    /// IANA time zone, e.g. `Europe/Berlin`.
    pub time_zone: String,
    /// Cameras whose sightings count. With `locations` also empty or absent, every camera counts.
    #[serde(default)]
    pub cameras: Vec<String>,
    /// Locations (as cameras are registered with) whose cameras' sightings count too.
    #[serde(default)]
    pub locations: Vec<String>,
    #[serde(default)]
    pub grace_minutes: Option<u32>,
    #[serde(default)]
    pub early_leave_minutes: Option<u32>,
    /// How long before the start and after the end sightings count (default 60, at most 720).
    #[serde(default)]
    pub window_minutes: Option<u32>,
    /// Output only: bumped by every edit.
    #[serde(default)]
    pub version: Option<i64>,
}

/// An id of a group or schedule: the same rules as a person id.
pub fn check_slug(what: &str, raw: &str) -> Result<String, String> {
    PersonId::parse(raw)
        .map(|id| id.to_string())
        .map_err(|e| format!("{what} id {raw:?}: {e}"))
}

fn weekday(raw: &str) -> Result<Weekday, String> {
    raw.parse::<Weekday>()
        .map_err(|_| format!("day {raw:?} is not a weekday (mon, tue, wed, thu, fri, sat, sun)"))
}

impl ScheduleSpec {
    /// Checks every field; the error says which and why.
    pub fn into_schedule(self, id: &str, group_id: &str) -> Result<Schedule, String> {
        let id = check_slug("schedule", id)?;
        let group_id = check_slug("group", group_id)?;
        let recurrence = match self.kind.as_str() {
            "once" => {
                if !self.days.is_empty() || self.from.is_some() || self.until.is_some() {
                    return Err("a once schedule has a date, not days, from or until".into());
                }
                Recurrence::Once {
                    date: self.date.ok_or("a once schedule needs its date")?,
                }
            }
            "weekly" => {
                if self.date.is_some() {
                    return Err("a weekly schedule has days (and from/until), not a date".into());
                }
                let mut days = self.days.iter().map(|d| weekday(d)).collect::<Result<Vec<_>, _>>()?;
                days.sort_by_key(|d| d.num_days_from_monday());
                days.dedup();
                Recurrence::Weekly {
                    days,
                    from: self.from,
                    until: self.until,
                }
            }
            other => return Err(format!("kind {other:?} is neither \"once\" nor \"weekly\"")),
        };
        let time =
            |what: &str, raw: &str| parse_time(raw).ok_or_else(|| format!("{what} {raw:?} is not a time (HH:MM)"));
        let timing = Timing {
            recurrence,
            start: time("start", &self.start)?,
            end: time("end", &self.end)?,
            ends_next_day: self.ends_next_day,
            time_zone: parse_time_zone(&self.time_zone).map_err(|e| e.to_string())?,
            grace_minutes: self.grace_minutes.unwrap_or(DEFAULT_GRACE_MINUTES),
            early_leave_minutes: self.early_leave_minutes.unwrap_or(DEFAULT_EARLY_LEAVE_MINUTES),
            window_minutes: self.window_minutes.unwrap_or(DEFAULT_WINDOW_MINUTES),
        };
        timing.validate().map_err(|e| e.to_string())?;
        let mut cameras = Vec::with_capacity(self.cameras.len());
        for raw in &self.cameras {
            let camera = CameraId::parse(raw).map_err(|e| format!("camera id {raw:?}: {e}"))?;
            cameras.push(camera.to_string());
        }
        cameras.sort();
        cameras.dedup();
        let mut locations = self
            .locations
            .iter()
            .map(|l| crate::domain::text::checked_name("a location", l, false))
            .collect::<Result<Vec<_>, _>>()?;
        locations.sort();
        locations.dedup();
        let name = crate::domain::text::checked_name("name", self.name.as_deref().unwrap_or(&id), false)?;
        Ok(Schedule {
            id,
            group_id,
            name,
            cameras,
            locations,
            timing,
            version: 0,
        })
    }

    /// The spec of a stored schedule, as the API shows it.
    pub fn of(schedule: &Schedule) -> ScheduleSpec {
        let t = &schedule.timing;
        let (kind, date, days, from, until) = match &t.recurrence {
            Recurrence::Once { date } => ("once", Some(*date), Vec::new(), None, None),
            Recurrence::Weekly { days, from, until } => (
                "weekly",
                None,
                days.iter().map(|d| d.to_string().to_lowercase()).collect(),
                *from,
                *until,
            ),
        };
        ScheduleSpec {
            id: Some(schedule.id.clone()),
            group_id: Some(schedule.group_id.clone()),
            name: Some(schedule.name.clone()),
            kind: kind.into(),
            date,
            days,
            from,
            until,
            start: format_time(t.start),
            end: format_time(t.end),
            ends_next_day: t.ends_next_day,
            time_zone: t.time_zone.name().to_owned(),
            cameras: schedule.cameras.clone(),
            locations: schedule.locations.clone(),
            grace_minutes: Some(t.grace_minutes),
            early_leave_minutes: Some(t.early_leave_minutes),
            window_minutes: Some(t.window_minutes),
            version: Some(schedule.version),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: serde_json::Value) -> Result<Schedule, String> {
        serde_json::from_value::<ScheduleSpec>(json)
            .map_err(|e| e.to_string())?
            .into_schedule("night", "ward-3")
    }

    #[test]
    fn a_weekly_night_shift_reads_and_round_trips() {
        let s = spec(serde_json::json!({
            "kind": "weekly", "days": ["fri", "Mon", "monday"], "start": "22:00", "end": "06:00",
            "ends_next_day": true, "time_zone": "Europe/Berlin", "cameras": ["gate-in", "gate-out"]
        }))
        .unwrap();
        assert_eq!(s.timing.grace_minutes, DEFAULT_GRACE_MINUTES);
        let back = ScheduleSpec::of(&s);
        assert_eq!(back.days, ["mon", "fri"]);
        assert_eq!(back.clone().into_schedule("night", "ward-3").unwrap(), s);
    }

    #[test]
    fn bad_schedules_say_what_is_wrong() {
        let base = serde_json::json!({"kind": "once", "date": "2026-11-23", "start": "09:00", "end": "11:00", "time_zone": "UTC"});
        let with = |key: &str, value: serde_json::Value| {
            let mut v = base.clone();
            v[key] = value;
            spec(v).unwrap_err()
        };
        assert!(with("end", "08:00".into()).contains("ends_next_day"));
        assert!(with("time_zone", "Europe/Atlantis".into()).contains("unknown time zone"));
        assert!(with("start", "9h".into()).contains("not a time"));
        assert!(with("kind", "daily".into()).contains("neither"));
        assert!(with("days", serde_json::json!(["mon"])).contains("once schedule"));
        assert!(with("cameras", serde_json::json!(["Front Door"])).contains("camera id"));
        assert!(spec(base).is_ok());
    }
}
