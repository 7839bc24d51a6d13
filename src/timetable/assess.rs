//! Who attended one session: a pure function of the roster, the cameras' roles and the sightings,
//! so any order, repetition or replay of the same events gives the same answer.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::schedule::{Occurrence, Timing};
use crate::domain::CameraRole;

/// A person seen by a camera (one attendance event).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sighting {
    pub person_id: String,
    pub camera_id: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Arrived within the grace period and stayed (so far).
    Present,
    /// Arrived after the grace period (`late_minutes`); may also have left early.
    Late,
    /// Arrived on time but left before the end, beyond the early-leave margin.
    LeftEarly,
    /// Not seen (yet, while the session runs).
    Absent,
}

impl Status {
    pub const ALL: [Status; 4] = [Status::Present, Status::Late, Status::LeftEarly, Status::Absent];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Present => "present",
            Status::Late => "late",
            Status::LeftEarly => "left_early",
            Status::Absent => "absent",
        }
    }
}

/// Where a session stands at the time of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Upcoming,
    Running,
    Ended,
}

/// One person's attendance of one session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PersonOutcome {
    pub person_id: String,
    pub status: Status,
    /// First entry (or first sighting, with only two-way cameras).
    pub arrived_at: Option<DateTime<Utc>>,
    /// Last exit not followed by another entry (or last sighting after the arrival).
    pub left_at: Option<DateTime<Utc>>,
    /// Minutes present between the start and the end (or now, while running).
    pub present_minutes: i64,
    /// Minutes after the start, when later than the grace period.
    pub late_minutes: Option<i64>,
    /// Minutes before the end, when earlier than the early-leave margin (once the session ended).
    pub left_early_minutes: Option<i64>,
}

/// Whole minutes, rounded up: 61 seconds late is 2 minutes late.
fn minutes_up(d: TimeDelta) -> i64 {
    (d.num_seconds() + 59).div_euclid(60)
}

/// The outcome of every person on `roster` for `occurrence`, ordered by person id.
///
/// Only sightings inside the schedule's window and from `cameras` (every camera when None) count. When
/// any counted camera is an entry or exit camera, presence runs from an entry (or two-way
/// sighting) to the next exit; otherwise it runs from the first sighting to the last.
pub fn assess(
    timing: &Timing,
    occurrence: &Occurrence,
    cameras: Option<&[String]>,
    roles: &HashMap<String, CameraRole>,
    roster: &[String],
    sightings: &[Sighting],
    now: DateTime<Utc>,
) -> Vec<PersonOutcome> {
    let (open, close) = timing.window(occurrence);
    let counted = |camera: &str| cameras.is_none_or(|list| list.iter().any(|c| c == camera));
    let role = |camera: &str| roles.get(camera).copied().unwrap_or_default();
    let directional = match cameras {
        None => roles.values().any(|r| *r != CameraRole::Both),
        Some(list) => list.iter().any(|c| role(c) != CameraRole::Both),
    };
    let mut by_person: BTreeMap<&str, Vec<Seen>> = roster.iter().map(|p| (p.as_str(), Vec::new())).collect();
    for s in sightings {
        if s.at < open || s.at >= close || !counted(&s.camera_id) {
            continue;
        }
        if let Some(seen) = by_person.get_mut(s.person_id.as_str()) {
            seen.push((s.at, role(&s.camera_id), s.camera_id.as_str()));
        }
    }
    let ended = now >= occurrence.ends_at;
    by_person
        .into_iter()
        .map(|(person, mut seen)| {
            // Sorted, and repeats removed: the order and number of deliveries cannot matter.
            seen.sort_by(|a, b| (a.0, role_rank(a.1), a.2).cmp(&(b.0, role_rank(b.1), b.2)));
            seen.dedup();
            let presence = if directional {
                entry_exit_presence(&seen, occurrence)
            } else {
                sighting_presence(&seen, occurrence)
            };
            outcome(person, presence, timing, occurrence, ended, now)
        })
        .collect()
}

/// One sighting of a person: when, through which kind of camera, and which camera.
type Seen<'a> = (DateTime<Utc>, CameraRole, &'a str);

/// Entries sort before exits at the same instant, so a pass through both is an entry then an exit.
fn role_rank(role: CameraRole) -> u8 {
    match role {
        CameraRole::Entry => 0,
        CameraRole::Both => 1,
        CameraRole::Exit => 2,
    }
}

/// Arrival, departure and the intervals inside, from a person's sorted sightings.
struct Presence {
    arrived_at: Option<DateTime<Utc>>,
    left_at: Option<DateTime<Utc>>,
    intervals: Vec<(DateTime<Utc>, Option<DateTime<Utc>>)>,
}

fn entry_exit_presence(seen: &[Seen], occurrence: &Occurrence) -> Presence {
    let mut intervals: Vec<(DateTime<Utc>, Option<DateTime<Utc>>)> = Vec::new();
    let mut inside_since: Option<DateTime<Utc>> = None;
    for (at, role, _) in seen {
        match role {
            CameraRole::Entry | CameraRole::Both => {
                inside_since.get_or_insert(*at);
            }
            CameraRole::Exit => match inside_since.take() {
                Some(since) => intervals.push((since, Some(*at))),
                // Leaving without a recorded entry: the entry camera missed them, and they were
                // inside since at least the start (or since this exit, if it is before the start).
                None => intervals.push(((*at).min(occurrence.starts_at), Some(*at))),
            },
        }
    }
    if let Some(since) = inside_since {
        intervals.push((since, None));
    }
    // Arrival is the first entry that is not before the window's start of the session; only an
    // exit before the session (someone leaving the previous one) does not make an arrival.
    let arrived_at = intervals
        .iter()
        .find(|(_, until)| until.is_none_or(|u| u > occurrence.starts_at))
        .map(|(since, _)| *since);
    let left_at = match intervals.last() {
        Some((_, Some(until))) if arrived_at.is_some() => Some(*until),
        _ => None,
    };
    Presence {
        arrived_at,
        left_at,
        intervals,
    }
}

fn sighting_presence(seen: &[Seen], occurrence: &Occurrence) -> Presence {
    let first = seen.iter().map(|s| s.0).find(|at| *at < occurrence.ends_at);
    let last = seen.last().map(|s| s.0).filter(|last| first.is_some_and(|f| *last > f));
    Presence {
        arrived_at: first,
        left_at: last,
        intervals: first.map(|f| (f, last)).into_iter().collect(),
    }
}

fn outcome(
    person: &str,
    presence: Presence,
    timing: &Timing,
    occurrence: &Occurrence,
    ended: bool,
    now: DateTime<Utc>,
) -> PersonOutcome {
    let (start, end) = (occurrence.starts_at, occurrence.ends_at);
    let until_now = now.min(end);
    let present_minutes = presence
        .intervals
        .iter()
        .map(|(since, until)| {
            let from = (*since).max(start);
            let to = until.unwrap_or(until_now).min(until_now);
            (to - from).max(TimeDelta::zero())
        })
        .sum::<TimeDelta>()
        .num_minutes();
    let arrived_at = presence.arrived_at.filter(|a| *a < end);
    let Some(arrived) = arrived_at else {
        return PersonOutcome {
            person_id: person.to_owned(),
            status: Status::Absent,
            arrived_at: None,
            left_at: None,
            present_minutes: 0,
            late_minutes: None,
            left_early_minutes: None,
        };
    };
    let grace = TimeDelta::minutes(i64::from(timing.grace_minutes));
    let late_minutes = (arrived > start + grace).then(|| minutes_up(arrived - start));
    // Before the end nobody has left early yet: they may come back.
    let margin = TimeDelta::minutes(i64::from(timing.early_leave_minutes));
    let left_early_minutes = presence
        .left_at
        .filter(|left| ended && *left < end - margin)
        .map(|left| minutes_up(end - left));
    let status = match (late_minutes, left_early_minutes) {
        (Some(_), _) => Status::Late,
        (None, Some(_)) => Status::LeftEarly,
        (None, None) => Status::Present,
    };
    PersonOutcome {
        person_id: person.to_owned(),
        status,
        arrived_at,
        left_at: presence.left_at,
        present_minutes,
        late_minutes,
        left_early_minutes,
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, NaiveTime};

    use super::*;
    use crate::timetable::schedule::{Recurrence, parse_time_zone};

    fn timing() -> Timing {
        Timing {
            recurrence: Recurrence::Once {
                date: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
            },
            start: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
            end: NaiveTime::from_hms_opt(11, 0, 0).unwrap(),
            ends_next_day: false,
            time_zone: parse_time_zone("UTC").unwrap(),
            grace_minutes: 5,
            early_leave_minutes: 10,
            window_minutes: 60,
        }
    }

    fn at(hm: &str) -> DateTime<Utc> {
        format!("2026-11-23T{hm}:00Z").parse().unwrap()
    }

    fn seen(person: &str, camera: &str, hm: &str) -> Sighting {
        Sighting {
            person_id: person.into(),
            camera_id: camera.into(),
            at: at(hm),
        }
    }

    fn roles() -> HashMap<String, CameraRole> {
        [
            ("in", CameraRole::Entry),
            ("out", CameraRole::Exit),
            ("hall", CameraRole::Both),
        ]
        .into_iter()
        .map(|(c, r)| (c.to_owned(), r))
        .collect()
    }

    fn run(cameras: &[&str], sightings: &[Sighting], now: &str) -> BTreeMap<String, PersonOutcome> {
        let t = timing();
        let o = t.occurrence_on(NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()).unwrap();
        let cameras: Vec<String> = cameras.iter().map(|c| c.to_string()).collect();
        let roster: Vec<String> = ["ann", "bob", "cat", "dan"].map(String::from).to_vec();
        assess(&t, &o, Some(&cameras), &roles(), &roster, sightings, at(now))
            .into_iter()
            .map(|p| (p.person_id.clone(), p))
            .collect()
    }

    fn day() -> Vec<Sighting> {
        vec![
            seen("ann", "in", "08:55"),
            seen("ann", "out", "11:02"),
            seen("bob", "in", "09:17"),
            seen("bob", "out", "11:05"),
            seen("cat", "in", "08:50"),
            seen("cat", "out", "10:00"),
            seen("eve", "in", "09:00"), // not on the roster
        ]
    }

    #[test]
    fn on_time_late_left_early_and_absent() {
        let r = run(&["in", "out"], &day(), "12:00");
        assert_eq!(r.len(), 4, "the roster, nobody else");
        assert_eq!(r["ann"].status, Status::Present);
        assert_eq!(r["ann"].present_minutes, 120);
        assert_eq!(r["bob"].status, Status::Late);
        assert_eq!(r["bob"].late_minutes, Some(17));
        assert_eq!(r["cat"].status, Status::LeftEarly);
        assert_eq!(r["cat"].left_early_minutes, Some(60));
        assert_eq!(r["cat"].present_minutes, 60);
        assert_eq!(r["dan"].status, Status::Absent);
    }

    #[test]
    fn any_order_and_any_repetition_give_the_same_outcomes() {
        let forward = run(&["in", "out"], &day(), "12:00");
        let mut shuffled: Vec<Sighting> = day().into_iter().rev().collect();
        shuffled.extend(day());
        shuffled.swap(0, 5);
        assert_eq!(run(&["in", "out"], &shuffled, "12:00"), forward);
    }

    #[test]
    fn while_running_nobody_has_left_early_and_absentees_are_those_not_seen_yet() {
        let r = run(&["in", "out"], &day(), "10:30");
        assert_eq!(r["cat"].status, Status::Present, "cat may come back");
        assert_eq!(r["cat"].left_at, Some(at("10:00")));
        assert_eq!(r["ann"].present_minutes, 90);
        assert_eq!(r["dan"].status, Status::Absent);
    }

    #[test]
    fn with_two_way_cameras_first_and_last_sighting_count() {
        let sightings = vec![
            seen("ann", "hall", "08:58"),
            seen("ann", "hall", "10:59"),
            seen("bob", "hall", "09:30"),
            seen("cat", "hall", "09:00"),
            seen("cat", "hall", "09:40"),
        ];
        let r = run(&["hall"], &sightings, "12:00");
        assert_eq!(r["ann"].status, Status::Present);
        assert_eq!(
            r["bob"].status,
            Status::Late,
            "one sighting: arrival known, departure not"
        );
        assert_eq!(r["bob"].left_at, None);
        assert_eq!(r["cat"].status, Status::LeftEarly);
        assert_eq!(r["cat"].present_minutes, 40);
    }

    #[test]
    fn only_the_schedule_s_cameras_and_window_count() {
        let sightings = vec![
            seen("ann", "hall", "09:00"), // not a camera of this session
            seen("bob", "in", "07:30"),   // before the window
            seen("bob", "in", "09:02"),
            seen("cat", "out", "08:30"), // leaving the session before: no arrival
            seen("dan", "in", "10:30"),
        ];
        let r = run(&["in", "out"], &sightings, "12:00");
        assert_eq!(r["ann"].status, Status::Absent);
        assert_eq!(r["bob"].arrived_at, Some(at("09:02")));
        assert_eq!(r["bob"].status, Status::Present);
        assert_eq!(r["cat"].status, Status::Absent);
        assert_eq!(r["dan"].late_minutes, Some(90));
        assert_eq!(r["dan"].present_minutes, 30, "stayed to the end");
    }

    #[test]
    fn leaving_and_coming_back_counts_the_time_inside_and_the_last_exit() {
        let sightings = vec![
            seen("ann", "in", "08:59"),
            seen("ann", "out", "09:30"),
            seen("ann", "in", "09:45"),
            seen("ann", "out", "10:55"),
        ];
        let r = run(&["in", "out"], &sightings, "12:00");
        assert_eq!(r["ann"].status, Status::Present, "left within the margin");
        assert_eq!(r["ann"].present_minutes, 30 + 70);
        assert_eq!(r["ann"].left_at, Some(at("10:55")));
    }
}
