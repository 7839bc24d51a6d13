//! Schedules as rows of `session_schedules`: times as `HH:MM`, lists and recurrences as JSON.

use super::entities::session_schedule;
use crate::timetable::{Recurrence, Schedule, Timing, format_time, parse_time, parse_time_zone};

/// The schedule of a stored row. Rows are validated before they are written, so a row that
/// does not parse is corruption, reported as such.
pub(super) fn schedule_from_row(row: &session_schedule::Model) -> anyhow::Result<Schedule> {
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

/// The stored row of `schedule`, with `created_at`/`updated_at` from the caller.
pub(super) fn schedule_to_row(
    schedule: &Schedule,
    created_at: chrono::DateTime<chrono::Utc>,
    updated_at: chrono::DateTime<chrono::Utc>,
) -> session_schedule::Model {
    let t = &schedule.timing;
    session_schedule::Model {
        id: schedule.id.clone(),
        group_id: schedule.group_id.clone(),
        name: schedule.name.clone(),
        recurrence: serde_json::to_string(&t.recurrence).expect("a recurrence serialises"),
        start_time: format_time(t.start),
        end_time: format_time(t.end),
        ends_next_day: t.ends_next_day,
        time_zone: t.time_zone.name().to_owned(),
        cameras: serde_json::to_string(&schedule.cameras).expect("camera ids serialise"),
        locations: serde_json::to_string(&schedule.locations).expect("locations serialise"),
        grace_minutes: t.grace_minutes as i32,
        early_leave_minutes: t.early_leave_minutes as i32,
        window_minutes: t.window_minutes as i32,
        version: schedule.version,
        created_at,
        updated_at,
    }
}
