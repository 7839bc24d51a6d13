//! Writing attendance batches: events inserted once by id, days folded order-independently.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, OnConflict, Query};
use sea_orm::{ConnectionTrait, DatabaseBackend, SqlErr, TransactionTrait};
use uuid::Uuid;

use super::Store;
use super::entities::{attendance_day as day, attendance_event as event};
use crate::domain::AttendanceEvent;

/// PostgreSQL's types of the columns written below, in their order.
const EVENT_COLUMN_TYPES: &[&str] = &[
    "uuid",
    "text",
    "text",
    "int8",
    "timestamptz",
    "real",
    "real",
    "int4",
    "int4",
    "int4",
    "int4",
    "text",
    "int2",
    "timestamptz",
];
const DAY_COLUMN_TYPES: &[&str] = &["text", "date", "timestamptz", "timestamptz", "text", "text", "int8"];

/// What a batch changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BatchOutcome {
    /// Events new to the store.
    pub inserted: usize,
    /// Events already stored (a redelivery or a replay), which changed nothing.
    pub duplicates: usize,
    /// Events of erased attendance, dropped (see `store::erased`).
    pub erased: usize,
    /// Events retracted (dropped when they arrive after their retraction), and for corrections,
    /// the events a batch's retractions took out (see `store::corrections`).
    pub retracted: usize,
    /// (person, day) rows created or updated.
    pub days: Vec<(String, NaiveDate)>,
    /// Cache keys whose data changed, with their new generation (see `cache::keys`).
    pub generations: Vec<(String, i64)>,
}

impl BatchOutcome {
    /// Adds what another write of the same batch changed.
    pub fn merge(&mut self, other: BatchOutcome) {
        self.inserted += other.inserted;
        self.duplicates += other.duplicates;
        self.erased += other.erased;
        self.retracted += other.retracted;
        self.days.extend(other.days);
        self.generations.extend(other.generations);
    }
}

/// The contribution of some events to one `attendance_days` row.
#[derive(Debug, Clone, PartialEq)]
pub struct DayFold {
    pub person_id: String,
    pub day: NaiveDate,
    pub first_seen: DateTime<Utc>,
    pub first_camera: String,
    pub last_seen: DateTime<Utc>,
    pub last_camera: String,
    pub event_count: i64,
}

impl DayFold {
    fn of(e: &AttendanceEvent) -> DayFold {
        DayFold {
            person_id: e.person_id.to_string(),
            day: e.seen_at.date_naive(),
            first_seen: e.seen_at,
            first_camera: e.camera_id.to_string(),
            last_seen: e.seen_at,
            last_camera: e.camera_id.to_string(),
            event_count: 1,
        }
    }

    /// Commutative and associative, so any order of events gives the same row. Ties on time go
    /// to the smaller camera id for `first_camera` and the larger for `last_camera` (the SQL
    /// upsert below applies the same rule).
    pub(super) fn merge(&mut self, other: &DayFold) {
        if (other.first_seen, &other.first_camera) < (self.first_seen, &self.first_camera) {
            self.first_seen = other.first_seen;
            self.first_camera.clone_from(&other.first_camera);
        }
        if (other.last_seen, &other.last_camera) > (self.last_seen, &self.last_camera) {
            self.last_seen = other.last_seen;
            self.last_camera.clone_from(&other.last_camera);
        }
        self.event_count += other.event_count;
    }
}

/// Folds events into one row per (person, UTC day).
pub fn fold_days<'a>(events: impl IntoIterator<Item = &'a AttendanceEvent>) -> Vec<DayFold> {
    let mut rows: BTreeMap<(String, NaiveDate), DayFold> = BTreeMap::new();
    for e in events {
        let fold = DayFold::of(e);
        match rows.get_mut(&(fold.person_id.clone(), fold.day)) {
            Some(existing) => existing.merge(&fold),
            None => {
                rows.insert((fold.person_id.clone(), fold.day), fold);
            }
        }
    }
    rows.into_values().collect()
}

impl Store {
    /// Writes a batch in one transaction. Only events that were not stored before are folded
    /// into `attendance_days`, so a redelivered or replayed batch changes nothing; events of
    /// erased people are dropped. PostgreSQL takes the new events by binary COPY
    /// (`attendance_copy`), other stores by INSERT … ON CONFLICT DO NOTHING.
    pub async fn write_attendance(&self, events: &[AttendanceEvent]) -> Result<BatchOutcome, sea_orm::DbErr> {
        let events: Vec<&AttendanceEvent> = events.iter().collect();
        self.write_sightings(&events).await
    }

    /// `write_attendance` of events borrowed from wherever they are (the attendance topic's
    /// records hold them beside corrections).
    pub(super) async fn write_sightings(&self, events: &[&AttendanceEvent]) -> Result<BatchOutcome, sea_orm::DbErr> {
        if events.is_empty() {
            return Ok(BatchOutcome::default());
        }
        if self.db.get_database_backend() == DatabaseBackend::Postgres {
            match self.write_attendance_copying(events).await {
                // Another writer stored one of the events between the check and the copy (two
                // projectors briefly sharing a partition): the conflict-tolerant path settles it.
                Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                    tracing::debug!(error = %e, "attendance copy met a concurrent writer; inserting instead");
                }
                outcome => return outcome,
            }
        }
        let txn = self.db.begin().await?;
        let kept = kept_events(&txn, events).await?;
        let new_ids = insert_new(&txn, &kept.events).await?;
        let mut new: HashSet<Uuid> = new_ids.into_iter().collect();
        // A batch can hold one event twice (a restarted recognizer sends its events again, and
        // both copies may meet in one batch): its first copy alone counts in the days.
        let new_events = kept
            .events
            .iter()
            .copied()
            .filter(|e| new.remove(&e.event_id))
            .collect();
        let outcome = fold_new(&txn, events.len(), &kept, new_events).await?;
        txn.commit().await?;
        Ok(outcome)
    }
}

/// The events of a batch that are to be stored.
pub(super) struct Kept<'a> {
    pub events: Vec<&'a AttendanceEvent>,
    /// Left out because they were retracted (`store::corrections`).
    pub retracted: usize,
}

/// The batch's events that belong neither to erased attendance nor to retracted events, holding
/// the erasure lock.
pub(super) async fn kept_events<'a>(
    txn: &impl ConnectionTrait,
    events: &[&'a AttendanceEvent],
) -> Result<Kept<'a>, sea_orm::DbErr> {
    super::erased::lock_against_erasure(txn).await?;
    let erased = super::erased::erased_events(txn, events).await?;
    let retracted = super::corrections::retracted_among(txn, events).await?;
    let events: Vec<&AttendanceEvent> = events
        .iter()
        .copied()
        .filter(|e| !erased.contains(&e.event_id) && !retracted.contains(&e.event_id))
        .collect();
    let retracted = retracted.len();
    Ok(Kept { events, retracted })
}

/// Inserts the events that are not stored yet; returns their ids.
pub(super) async fn insert_new(
    txn: &impl ConnectionTrait,
    kept: &[&AttendanceEvent],
) -> Result<Vec<Uuid>, sea_orm::DbErr> {
    let mut new_ids: Vec<Uuid> = Vec::with_capacity(kept.len());
    let recorded_at = super::now();
    let backend = txn.get_database_backend();
    for chunk in kept.chunks(super::rows::rows_per_statement(backend)) {
        let mut insert = Query::insert();
        insert.into_table(event::Entity).columns([
            event::Column::EventId,
            event::Column::PersonId,
            event::Column::CameraId,
            event::Column::FrameSeq,
            event::Column::SeenAt,
            event::Column::Distance,
            event::Column::Similarity,
            event::Column::BoxX,
            event::Column::BoxY,
            event::Column::BoxW,
            event::Column::BoxH,
            event::Column::ModelId,
            event::Column::SchemaVersion,
            event::Column::RecordedAt,
        ]);
        let mut rows = super::rows::Rows::new(backend, EVENT_COLUMN_TYPES);
        for e in chunk {
            rows.push(&[
                &e.event_id,
                &e.person_id.as_str(),
                &e.camera_id.as_str(),
                // Sequences are per camera and start at 0; i64 covers centuries of frames.
                &(e.frame_seq as i64),
                &e.seen_at,
                &e.distance,
                &e.similarity,
                &e.face_box.x,
                &e.face_box.y,
                &e.face_box.w,
                &e.face_box.h,
                &e.model_id.as_str(),
                &(e.schema_version as i16),
                &recorded_at,
            ]);
        }
        rows.into(&mut insert)?;
        insert.on_conflict(OnConflict::column(event::Column::EventId).do_nothing().to_owned());
        insert.returning_col(event::Column::EventId);
        for row in txn.query_all(&insert).await? {
            new_ids.push(row.try_get_by_index::<Uuid>(0)?);
        }
    }
    Ok(new_ids)
}

/// Folds the events new to the store (each once) into their days and bumps the generations of
/// what changed, in the batch's transaction: a committed change always has a new generation.
pub(super) async fn fold_new(
    txn: &impl ConnectionTrait,
    batch_len: usize,
    kept: &Kept<'_>,
    new_events: Vec<&AttendanceEvent>,
) -> Result<BatchOutcome, sea_orm::DbErr> {
    let inserted = new_events.len();
    let folds = fold_days(new_events);
    let backend = txn.get_database_backend();
    for chunk in folds.chunks(super::rows::rows_per_statement(backend)) {
        txn.execute(&upsert_days(chunk, backend)?).await?;
    }
    let days: Vec<(String, NaiveDate)> = folds.into_iter().map(|f| (f.person_id, f.day)).collect();
    let generations = super::changes::bump(txn, &crate::cache::keys::affected_by(&days)).await?;
    Ok(BatchOutcome {
        inserted,
        duplicates: kept.events.len() - inserted,
        erased: batch_len - kept.events.len() - kept.retracted,
        retracted: kept.retracted,
        days,
        generations,
    })
}

/// INSERT … ON CONFLICT DO UPDATE with the same order-independent rule as `DayFold::merge`.
/// Written with CASE so that one statement serves PostgreSQL and SQLite (which lacks LEAST/GREATEST).
pub(super) fn upsert_days(
    folds: &[DayFold],
    backend: sea_orm::DatabaseBackend,
) -> Result<sea_orm::sea_query::InsertStatement, sea_orm::DbErr> {
    let mut insert = Query::insert();
    insert.into_table(day::Entity).columns([
        day::Column::PersonId,
        day::Column::Day,
        day::Column::FirstSeen,
        day::Column::LastSeen,
        day::Column::FirstCamera,
        day::Column::LastCamera,
        day::Column::EventCount,
    ]);
    let mut rows = super::rows::Rows::new(backend, DAY_COLUMN_TYPES);
    for r in folds {
        rows.push(&[
            &r.person_id.as_str(),
            &r.day,
            &r.first_seen,
            &r.last_seen,
            &r.first_camera.as_str(),
            &r.last_camera.as_str(),
            &r.event_count,
        ]);
    }
    rows.into(&mut insert)?;
    let earlier = "(excluded.first_seen < attendance_days.first_seen OR (excluded.first_seen = attendance_days.first_seen AND excluded.first_camera < attendance_days.first_camera))";
    let later = "(excluded.last_seen > attendance_days.last_seen OR (excluded.last_seen = attendance_days.last_seen AND excluded.last_camera > attendance_days.last_camera))";
    // Take the incoming value of `column` when `condition` holds, else keep the stored one.
    let pick = |condition: &str, column: &str| {
        Expr::cust(format!(
            "CASE WHEN {condition} THEN excluded.{column} ELSE attendance_days.{column} END"
        ))
    };
    insert.on_conflict(
        OnConflict::columns([day::Column::PersonId, day::Column::Day])
            .values([
                (day::Column::FirstSeen, pick(earlier, "first_seen")),
                (day::Column::FirstCamera, pick(earlier, "first_camera")),
                (day::Column::LastSeen, pick(later, "last_seen")),
                (day::Column::LastCamera, pick(later, "last_camera")),
                (
                    day::Column::EventCount,
                    Expr::cust("attendance_days.event_count + excluded.event_count"),
                ),
            ])
            .to_owned(),
    );
    Ok(insert)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{CameraId, FaceBox, PersonId};

    fn ev(person: &str, camera: &str, seq: u64, at: &str) -> AttendanceEvent {
        let (camera, person) = (CameraId::parse(camera).unwrap(), PersonId::parse(person).unwrap());
        AttendanceEvent::new(
            person,
            camera,
            seq,
            at.parse().unwrap(),
            0.3,
            FaceBox { x: 0, y: 0, w: 1, h: 1 },
            "m",
        )
    }

    #[test]
    fn fold_is_order_independent() {
        let events = vec![
            ev("a", "door", 1, "2026-11-22T08:00:00Z"),
            ev("a", "hall", 2, "2026-11-22T12:00:00Z"),
            ev("a", "back", 3, "2026-11-22T08:00:00Z"),
            ev("a", "door", 4, "2026-11-23T09:00:00Z"),
            ev("b", "door", 5, "2026-11-22T10:00:00Z"),
        ];
        let forward = fold_days(&events);
        let mut reversed = events.clone();
        reversed.reverse();
        assert_eq!(fold_days(&reversed), forward);
        let a22 = &forward[0];
        assert_eq!(
            (a22.first_camera.as_str(), a22.last_camera.as_str(), a22.event_count),
            ("back", "hall", 3)
        );
        assert_eq!(forward.len(), 3);
    }
}
