//! What there is to tell, found in the store: today's and yesterday's arrivals, clusters that
//! reached `review.flag_after`, and the members late or absent in running sessions whose grace
//! period is over. Each fact gives a notification whose id derives from it, so looking again
//! finds the same ids (the outbox keeps each once), and facts already queued by this process
//! are remembered so they are not offered again.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use uuid::Uuid;

use super::{Notification, NotificationKind};
use crate::review::{ClusterStatus, ReviewConfig};
use crate::store::Store;
use crate::timetable::Status;

/// Day rows read per page.
const PAGE: u64 = 500;

/// The facts of this process already in the outbox, by notification id, and the generation of
/// each day's attendance it last read (a day whose generation has not moved is not read again).
#[derive(Debug, Default)]
pub struct Known {
    ids: HashSet<Uuid>,
    days: HashMap<NaiveDate, i64>,
}

impl Known {
    /// Keeps the notifications not known yet, and from now on knows them.
    fn fresh(&mut self, notes: Vec<Notification>) -> Vec<Notification> {
        notes.into_iter().filter(|n| self.ids.insert(n.id)).collect()
    }

    /// Forgets everything once it is large: the outbox stays the judge of what is new.
    pub fn trim(&mut self, most: usize) {
        if self.ids.len() > most {
            *self = Known::default();
        }
    }
}

/// The notifications of `kinds` there are at `now` that this process has not queued yet.
pub async fn find(
    store: &Store,
    review: &ReviewConfig,
    kinds: &HashSet<NotificationKind>,
    now: DateTime<Utc>,
    known: &mut Known,
) -> anyhow::Result<Vec<Notification>> {
    let mut found = Vec::new();
    if kinds.contains(&NotificationKind::PersonArrived) {
        let arrived = arrivals(store, now, &mut known.days).await?;
        found.extend(known.fresh(arrived));
    }
    if kinds.contains(&NotificationKind::ClusterFlagged) {
        found.extend(known.fresh(flagged_clusters(store, review, now).await?));
    }
    if kinds.contains(&NotificationKind::SessionLate) || kinds.contains(&NotificationKind::SessionAbsent) {
        let sessions = known.fresh(late_and_absent(store, now).await?);
        found.extend(sessions.into_iter().filter(|n| kinds.contains(&n.kind)));
    }
    Ok(found)
}

/// A person's first attendance of today and yesterday (UTC): one notification a person a day.
/// A day is read only when its attendance changed since this process last read it (every write
/// of a day's rows moves its cache generation).
async fn arrivals(
    store: &Store,
    now: DateTime<Utc>,
    read: &mut HashMap<NaiveDate, i64>,
) -> anyhow::Result<Vec<Notification>> {
    let mut out = Vec::new();
    let today = now.date_naive();
    read.retain(|day, _| *day >= today - TimeDelta::days(1));
    for day in [today - TimeDelta::days(1), today] {
        let generation = store.cache_generation(&crate::cache::keys::attendance_day(day)).await?;
        if read.insert(day, generation) == Some(generation) {
            continue;
        }
        let mut after: Option<String> = None;
        loop {
            let rows = store.attendance_on(day, after.as_deref(), PAGE).await?;
            for row in &rows {
                let data = serde_json::json!({
                    "person_id": row.person_id,
                    "display_name": row.display_name,
                    "day": day,
                    "first_seen": row.first_seen,
                    "camera_id": row.first_camera,
                });
                let subject = format!("{}/{day}", row.person_id);
                let person = Some(row.person_id.clone());
                out.push(Notification::new(
                    NotificationKind::PersonArrived,
                    subject,
                    person,
                    data,
                    now,
                ));
            }
            if (rows.len() as u64) < PAGE {
                break;
            }
            after = rows.last().map(|r| r.person_id.clone());
        }
    }
    Ok(out)
}

/// Open clusters of unknown faces seen at least `review.flag_after` times.
async fn flagged_clusters(
    store: &Store,
    review: &ReviewConfig,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<Notification>> {
    let clusters = store.unknown_clusters(Some(ClusterStatus::Open), 10_000).await?;
    Ok(clusters
        .into_iter()
        .filter(|c| review.flags(c.size))
        .map(|c| {
            let data = serde_json::json!({
                "cluster_id": c.cluster_id,
                "faces": c.size,
                "first_seen": c.first_seen,
                "last_seen": c.last_seen,
                "cameras": c.cameras,
                "review_url": format!("/v1/review/clusters/{}", c.cluster_id),
            });
            Notification::new(
                NotificationKind::ClusterFlagged,
                c.cluster_id.to_string(),
                None,
                data,
                now,
            )
        })
        .collect())
}

/// In each running session whose grace period is over: the members absent so far, and those
/// who arrived late.
async fn late_and_absent(store: &Store, now: DateTime<Utc>) -> anyhow::Result<Vec<Notification>> {
    let mut out = Vec::new();
    for (schedule, occurrence) in crate::sessions::report::running(store, None, now).await? {
        let grace = TimeDelta::minutes(i64::from(schedule.timing.grace_minutes));
        if now < occurrence.starts_at + grace {
            continue;
        }
        let Some(report) = crate::sessions::report::session_report(store, &schedule, occurrence.date, now).await?
        else {
            continue;
        };
        for person in &report.people {
            let kind = match person.status {
                Status::Absent => NotificationKind::SessionAbsent,
                Status::Late => NotificationKind::SessionLate,
                Status::Present | Status::LeftEarly => continue,
            };
            let data = serde_json::json!({
                "person_id": person.person_id,
                "schedule_id": report.schedule_id,
                "schedule_name": report.schedule_name,
                "group_id": report.group_id,
                "date": report.date,
                "starts_at": report.starts_at,
                "grace_minutes": schedule.timing.grace_minutes,
                "arrived_at": person.arrived_at,
                "late_minutes": person.late_minutes,
            });
            let subject = format!("{}/{}/{}", report.schedule_id, report.date, person.person_id);
            let who = Some(person.person_id.clone());
            out.push(Notification::new(kind, subject, who, data, now));
        }
    }
    Ok(out)
}
