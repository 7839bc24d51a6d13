//! Session reports from the store: one session's outcomes, a person's history over a range, and
//! the sessions running now. Each is assessed from the stored events when asked.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::cache::keys;
use crate::domain::CameraRole;
use crate::store::Store;
use crate::timetable::assess::{PersonOutcome, Phase, Status, assess};
use crate::timetable::schedule::Occurrence;
use crate::timetable::{Schedule, format_time};

/// How many people had each outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Counts {
    pub present: u64,
    pub late: u64,
    pub left_early: u64,
    pub absent: u64,
}

impl Counts {
    pub fn of(people: &[PersonOutcome]) -> Counts {
        let mut c = Counts::default();
        for p in people {
            *match p.status {
                Status::Present => &mut c.present,
                Status::Late => &mut c.late,
                Status::LeftEarly => &mut c.left_early,
                Status::Absent => &mut c.absent,
            } += 1;
        }
        c
    }

    pub fn get(&self, status: Status) -> u64 {
        match status {
            Status::Present => self.present,
            Status::Late => self.late,
            Status::LeftEarly => self.left_early,
            Status::Absent => self.absent,
        }
    }
}

/// One session of a schedule and everyone on its roster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SessionReport {
    pub schedule_id: String,
    pub schedule_name: String,
    pub group_id: String,
    /// Local date the session starts on.
    pub date: NaiveDate,
    pub time_zone: String,
    /// Local start and end, as scheduled.
    pub start: String,
    pub end: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub phase: Phase,
    /// The schedule's version the report was computed with.
    pub schedule_version: i64,
    pub counts: Counts,
    /// Everyone on the roster that day, by person id.
    pub people: Vec<PersonOutcome>,
}

/// One session in a person's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PersonSession {
    pub schedule_id: String,
    pub group_id: String,
    pub date: NaiveDate,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub phase: Phase,
    #[serde(flatten)]
    pub outcome: PersonOutcome,
}

/// The camera register as sessions need it: roles, and what each schedule counts.
struct Cameras {
    roles: HashMap<String, CameraRole>,
    locations: Vec<(String, String)>,
}

impl Cameras {
    async fn of(store: &Store) -> anyhow::Result<Cameras> {
        let register = store.camera_register().await?;
        Ok(Cameras {
            roles: register.iter().map(|(id, (role, _))| (id.clone(), *role)).collect(),
            locations: register.into_iter().map(|(id, (_, location))| (id, location)).collect(),
        })
    }

    fn counted_by(&self, schedule: &Schedule) -> Option<Vec<String>> {
        schedule.counted_cameras(self.locations.iter().map(|(id, l)| (id.as_str(), l.as_str())))
    }
}

pub fn phase(occurrence: &Occurrence, now: DateTime<Utc>) -> Phase {
    if now < occurrence.starts_at {
        Phase::Upcoming
    } else if now < occurrence.ends_at {
        Phase::Running
    } else {
        Phase::Ended
    }
}

/// The cache generations a session report depends on: the group (members, schedules), camera
/// roles, and each UTC day whose events could fall in the session's window.
pub fn session_dependencies(schedule: &Schedule, occurrence: &Occurrence) -> Vec<String> {
    let (open, close) = schedule.timing.window(occurrence);
    let mut deps = vec![keys::group(&schedule.group_id), keys::cameras()];
    let mut day = open.date_naive();
    while day <= close.date_naive() {
        deps.push(keys::attendance_day(day));
        day = day.succ_opt().expect("dates are far from the end of time");
    }
    deps
}

/// The report of `schedule`'s session starting on local `date`; None if it has none that day.
pub async fn session_report(
    store: &Store,
    schedule: &Schedule,
    date: NaiveDate,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<SessionReport>> {
    let Some(occurrence) = schedule.timing.occurrence_on(date) else {
        return Ok(None);
    };
    let roster = store.roster(&schedule.group_id, date).await?;
    let cameras = Cameras::of(store).await?;
    let (open, close) = schedule.timing.window(&occurrence);
    let sightings = store.sightings(&roster, open, close).await?;
    let people = assess(
        &schedule.timing,
        &occurrence,
        cameras.counted_by(schedule).as_deref(),
        &cameras.roles,
        &roster,
        &sightings,
        now,
    );
    Ok(Some(SessionReport {
        schedule_id: schedule.id.clone(),
        schedule_name: schedule.name.clone(),
        group_id: schedule.group_id.clone(),
        date,
        time_zone: schedule.timing.time_zone.name().to_owned(),
        start: format_time(schedule.timing.start),
        end: format_time(schedule.timing.end),
        starts_at: occurrence.starts_at,
        ends_at: occurrence.ends_at,
        phase: phase(&occurrence, now),
        schedule_version: schedule.version,
        counts: Counts::of(&people),
        people,
    }))
}

/// The groups a person's history depends on (from their memberships).
pub async fn person_groups(store: &Store, person_id: &str) -> anyhow::Result<Vec<String>> {
    let groups: BTreeSet<String> = store
        .memberships_of(person_id)
        .await?
        .into_iter()
        .map(|(g, _)| g)
        .collect();
    Ok(groups.into_iter().collect())
}

/// Every session of the person's groups starting on local dates `from..=to` while they were a
/// member, with their outcome; ordered by start.
pub async fn person_history(
    store: &Store,
    person_id: &str,
    from: NaiveDate,
    to: NaiveDate,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<PersonSession>> {
    let memberships = store.memberships_of(person_id).await?;
    let cameras = Cameras::of(store).await?;
    let person = vec![person_id.to_owned()];
    let mut sessions: Vec<(Schedule, Occurrence)> = Vec::new();
    let groups: BTreeSet<&String> = memberships.iter().map(|(g, _)| g).collect();
    for group in groups {
        for schedule in store.schedules(Some(group)).await? {
            for occurrence in schedule.timing.occurrences(from, to) {
                let member = memberships
                    .iter()
                    .any(|(g, period)| g == group && period.contains(occurrence.date));
                if member {
                    sessions.push((schedule.clone(), occurrence));
                }
            }
        }
    }
    let Some(open) = sessions.iter().map(|(s, o)| s.timing.window(o).0).min() else {
        return Ok(Vec::new());
    };
    let close = sessions.iter().map(|(s, o)| s.timing.window(o).1).max().unwrap_or(open);
    let sightings = store.sightings(&person, open, close).await?;
    let mut out: Vec<PersonSession> = sessions
        .into_iter()
        .map(|(schedule, occurrence)| {
            let outcome = assess(
                &schedule.timing,
                &occurrence,
                cameras.counted_by(&schedule).as_deref(),
                &cameras.roles,
                &person,
                &sightings,
                now,
            )
            .pop()
            .expect("one person in, one outcome out");
            PersonSession {
                schedule_id: schedule.id.clone(),
                group_id: schedule.group_id.clone(),
                date: occurrence.date,
                starts_at: occurrence.starts_at,
                ends_at: occurrence.ends_at,
                phase: phase(&occurrence, now),
                outcome,
            }
        })
        .collect();
    out.sort_by(|a, b| (a.starts_at, &a.schedule_id).cmp(&(b.starts_at, &b.schedule_id)));
    Ok(out)
}

/// The sessions running at `now`, of one group or of all.
pub async fn running(
    store: &Store,
    group_id: Option<&str>,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<(Schedule, Occurrence)>> {
    Ok(store
        .schedules(group_id)
        .await?
        .into_iter()
        .filter_map(|s| s.timing.running_at(now).map(|o| (s, o)))
        .collect())
}

/// A report as CSV: one line per person, times in UTC (RFC 3339).
pub fn to_csv(report: &SessionReport) -> String {
    let mut out = String::from(
        "schedule_id,date,person_id,status,arrived_at,left_at,present_minutes,late_minutes,left_early_minutes\n",
    );
    let time = |t: Option<DateTime<Utc>>| t.map(|t| t.to_rfc3339()).unwrap_or_default();
    let number = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_default();
    for p in &report.people {
        // Ids are restricted to [a-z0-9._-] (PersonId, schedule ids), so no field needs quoting.
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{}\n",
            report.schedule_id,
            report.date,
            p.person_id,
            p.status.as_str(),
            time(p.arrived_at),
            time(p.left_at),
            p.present_minutes,
            number(p.late_minutes),
            number(p.left_early_minutes),
        ));
    }
    out
}
