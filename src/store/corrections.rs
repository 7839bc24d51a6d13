//! Folding attendance corrections. A retraction takes its event out of `attendance_events`,
//! keeps who, why and what in `attendance_retractions` (which also drops the event should it
//! arrive later), and folds the event's day again from the events left; an addition is stored
//! as an event like a camera's. Each writes its audit entry under the correction's id, so a
//! redelivery or a replay of the same corrections changes nothing.

use std::collections::{BTreeSet, HashSet};

use chrono::{NaiveDate, TimeDelta};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait};
use uuid::Uuid;

use super::Store;
use super::attendance::{BatchOutcome, DayFold, fold_new, insert_new, kept_events, upsert_days};
use super::changes::{AuditEntry, bump, record_audit};
use super::entities::{attendance_day as day, attendance_event as event, attendance_retraction as retraction};
use crate::domain::{AttendanceCorrection, AttendanceEvent, AttendanceRecord, CorrectionKind};

impl Store {
    /// Writes a batch of the attendance topic: its sightings as `write_attendance` does, then its
    /// corrections in a transaction of their own. Both halves are idempotent, so a batch
    /// delivered again after a crash between them changes nothing more.
    pub async fn write_attendance_records(&self, records: &[AttendanceRecord]) -> Result<BatchOutcome, sea_orm::DbErr> {
        let mut sightings: Vec<&AttendanceEvent> = Vec::with_capacity(records.len());
        let mut corrections: Vec<&AttendanceCorrection> = Vec::new();
        for record in records {
            match record {
                AttendanceRecord::Sighting(event) => sightings.push(event),
                AttendanceRecord::Correction(correction) => corrections.push(correction),
            }
        }
        let mut outcome = self.write_sightings(&sightings).await?;
        if !corrections.is_empty() {
            outcome.merge(self.apply_corrections(&corrections).await?);
        }
        Ok(outcome)
    }

    /// Folds corrections in one transaction: additions as events, then retractions. Corrections
    /// of erased attendance are dropped, as its events are.
    pub async fn apply_corrections(
        &self,
        corrections: &[&AttendanceCorrection],
    ) -> Result<BatchOutcome, sea_orm::DbErr> {
        let txn = self.db.begin().await?;
        let events: Vec<AttendanceEvent> = corrections.iter().map(|c| c.as_event()).collect();
        let as_events: Vec<&AttendanceEvent> = events.iter().collect();
        let kept = kept_events(&txn, &as_events).await?;
        let kept_ids: HashSet<Uuid> = kept.events.iter().map(|e| e.event_id).collect();
        let (additions, retractions): (Vec<&AttendanceCorrection>, Vec<&AttendanceCorrection>) = corrections
            .iter()
            .copied()
            .filter(|c| kept_ids.contains(&c.event_id))
            .partition(|c| c.correction == CorrectionKind::Addition);

        let added: Vec<&AttendanceEvent> = additions
            .iter()
            .filter_map(|c| events.iter().find(|e| e.event_id == c.event_id))
            .collect();
        let new_ids: HashSet<Uuid> = insert_new(&txn, &added).await?.into_iter().collect();
        let new_events: Vec<&AttendanceEvent> = added
            .iter()
            .copied()
            .filter(|e| new_ids.contains(&e.event_id))
            .collect();
        let additions_kept = super::attendance::Kept {
            events: added.clone(),
            retracted: 0,
        };
        let mut outcome = fold_new(&txn, added.len(), &additions_kept, new_events).await?;
        outcome.erased = corrections.len() - kept.events.len() - kept.retracted;

        let mut refolded: BTreeSet<(String, NaiveDate)> = BTreeSet::new();
        for correction in &retractions {
            match retract(&txn, correction).await? {
                Retracted::Now(person, day) => {
                    outcome.retracted += 1;
                    refolded.insert((person, day));
                }
                Retracted::Before => outcome.duplicates += 1,
                Retracted::NotStoredYet => {}
            }
        }
        for (person, day) in &refolded {
            fold_day_again(&txn, person, *day).await?;
        }
        let refolded: Vec<(String, NaiveDate)> = refolded.into_iter().collect();
        outcome
            .generations
            .extend(bump(&txn, &crate::cache::keys::affected_by(&refolded)).await?);
        outcome.days.extend(refolded);
        for correction in additions.iter().chain(&retractions) {
            record_audit(&txn, &audit_entry(correction)).await?;
        }
        txn.commit().await?;
        Ok(outcome)
    }

    /// Whether `event_id` was retracted.
    pub async fn is_retracted(&self, event_id: Uuid) -> Result<bool, sea_orm::DbErr> {
        Ok(retraction::Entity::find_by_id(event_id).one(&self.db).await?.is_some())
    }

    /// One stored attendance event.
    pub async fn attendance_event(&self, event_id: Uuid) -> Result<Option<event::Model>, sea_orm::DbErr> {
        event::Entity::find_by_id(event_id).one(&self.db).await
    }
}

enum Retracted {
    /// Its event left the events of this (person, day).
    Now(String, NaiveDate),
    /// The retraction was folded before (a redelivery, a replay into the same store).
    Before,
    /// Recorded; its event, not stored yet, will be dropped when it comes.
    NotStoredYet,
}

async fn retract(txn: &impl ConnectionTrait, c: &AttendanceCorrection) -> Result<Retracted, sea_orm::DbErr> {
    let mut insert = Query::insert();
    insert
        .into_table(retraction::Entity)
        .columns([
            retraction::Column::EventId,
            retraction::Column::CorrectionId,
            retraction::Column::PersonId,
            retraction::Column::CameraId,
            retraction::Column::SeenAt,
            retraction::Column::Actor,
            retraction::Column::Reason,
            retraction::Column::CorrectedAt,
        ])
        .values_panic([
            c.event_id.into(),
            c.correction_id.into(),
            c.person_id.as_str().into(),
            c.camera_id.as_str().into(),
            c.seen_at.into(),
            c.actor.as_str().into(),
            c.reason.as_str().into(),
            c.corrected_at.into(),
        ])
        .on_conflict(OnConflict::column(retraction::Column::EventId).do_nothing().to_owned())
        .returning_col(retraction::Column::EventId);
    if txn.query_all(&insert).await?.is_empty() {
        return Ok(Retracted::Before);
    }
    let mut delete = Query::delete();
    delete
        .from_table(event::Entity)
        .and_where(Expr::col(event::Column::EventId).eq(c.event_id))
        .returning(Query::returning().columns([event::Column::PersonId, event::Column::SeenAt]));
    let Some(row) = txn.query_one(&delete).await? else {
        return Ok(Retracted::NotStoredYet);
    };
    let person: String = row.try_get_by_index(0)?;
    let seen_at: chrono::DateTime<chrono::Utc> = row.try_get_by_index(1)?;
    Ok(Retracted::Now(person, seen_at.date_naive()))
}

/// Replaces the (person, day) row by the fold of the events stored for it now (none: no row).
async fn fold_day_again(txn: &impl ConnectionTrait, person: &str, on: NaiveDate) -> Result<(), sea_orm::DbErr> {
    day::Entity::delete_many()
        .filter(day::Column::PersonId.eq(person))
        .filter(day::Column::Day.eq(on))
        .exec(txn)
        .await?;
    let start = on.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc();
    let left: Vec<(String, chrono::DateTime<chrono::Utc>)> = event::Entity::find()
        .select_only()
        .column(event::Column::CameraId)
        .column(event::Column::SeenAt)
        .filter(event::Column::PersonId.eq(person))
        .filter(event::Column::SeenAt.gte(start))
        .filter(event::Column::SeenAt.lt(start + TimeDelta::days(1)))
        .into_tuple()
        .all(txn)
        .await?;
    let mut folds = left.into_iter().map(|(camera, at)| DayFold {
        person_id: person.to_owned(),
        day: on,
        first_seen: at,
        first_camera: camera.clone(),
        last_seen: at,
        last_camera: camera,
        event_count: 1,
    });
    if let Some(mut fold) = folds.next() {
        folds.for_each(|f| fold.merge(&f));
        txn.execute(&upsert_days(&[fold], txn.get_database_backend())?).await?;
    }
    Ok(())
}

fn audit_entry(c: &AttendanceCorrection) -> AuditEntry {
    let action = match c.correction {
        CorrectionKind::Retraction => "attendance.retracted",
        CorrectionKind::Addition => "attendance.added",
    };
    AuditEntry {
        id: c.correction_id,
        at: c.corrected_at,
        actor: c.actor.clone(),
        action: action.to_owned(),
        subject: c.person_id.to_string(),
        details: serde_json::json!({
            "correction_id": c.correction_id,
            "event_id": c.event_id,
            "camera_id": c.camera_id,
            "seen_at": c.seen_at,
            "reason": c.reason,
        }),
    }
}

/// The ids among `events` that were retracted. Retractions are few and each batch spans a short
/// time, so the lookup is by the batch's time span (indexed), not by its thousands of ids.
pub(super) async fn retracted_among(
    txn: &impl ConnectionTrait,
    events: &[&AttendanceEvent],
) -> Result<HashSet<Uuid>, sea_orm::DbErr> {
    let (Some(earliest), Some(latest)) = (
        events.iter().map(|e| e.seen_at).min(),
        events.iter().map(|e| e.seen_at).max(),
    ) else {
        return Ok(HashSet::new());
    };
    let retracted: HashSet<Uuid> = retraction::Entity::find()
        .select_only()
        .column(retraction::Column::EventId)
        .filter(retraction::Column::SeenAt.gte(earliest))
        .filter(retraction::Column::SeenAt.lte(latest))
        .into_tuple()
        .all(txn)
        .await?
        .into_iter()
        .collect();
    if retracted.is_empty() {
        return Ok(retracted);
    }
    Ok(events
        .iter()
        .map(|e| e.event_id)
        .filter(|id| retracted.contains(id))
        .collect())
}

impl Store {
    /// A person's stored attendance events on a UTC day, oldest first.
    pub async fn person_events(
        &self,
        person: &crate::domain::PersonId,
        on: NaiveDate,
    ) -> Result<Vec<event::Model>, sea_orm::DbErr> {
        let start = on.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc();
        event::Entity::find()
            .filter(event::Column::PersonId.eq(person.as_str()))
            .filter(event::Column::SeenAt.gte(start))
            .filter(event::Column::SeenAt.lt(start + TimeDelta::days(1)))
            .order_by_asc(event::Column::SeenAt)
            .order_by_asc(event::Column::EventId)
            .all(&self.db)
            .await
    }
}
