//! Erasure is final: a tombstone per erased person, checked by every write of attendance (the
//! projector's batches and `rollcall replay`), so that an event redelivered, in flight or
//! replayed after the erasure does not bring the person's attendance back.
//!
//! The tombstone holds a digest of the id, not the id: the table is a list of who was erased,
//! and need not name them. An event is dropped when its person has a tombstone and either no
//! longer exists or was seen no later than the erasure; a person enrolled again under the same
//! id counts from then on. On PostgreSQL an erasure takes an advisory lock that every batch
//! shares, so a batch is either wholly before an erasure (and erased with the rest) or sees its
//! tombstone; SQLite runs one writing transaction at a time anyway.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter, QuerySelect, Statement};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::entities::{erased_person, person};
use crate::domain::AttendanceEvent;

/// The advisory lock between erasures (exclusive) and attendance batches (shared).
const ERASURE_LOCK: i64 = 0x726f_6c6c_6572_6173; // "rollerase"

/// The digest a tombstone is keyed by.
pub fn person_digest(id: &str) -> String {
    let digest = Sha256::new_with_prefix(b"rollcall erased person\0")
        .chain_update(id.as_bytes())
        .finalize();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Waits for the batches in flight, and holds later ones back until the erasure commits.
pub(super) async fn lock_for_erasure(txn: &impl ConnectionTrait) -> Result<(), sea_orm::DbErr> {
    advisory_lock(txn, "pg_advisory_xact_lock").await
}

/// Keeps an erasure from committing while this batch is being written.
pub(super) async fn lock_against_erasure(txn: &impl ConnectionTrait) -> Result<(), sea_orm::DbErr> {
    advisory_lock(txn, "pg_advisory_xact_lock_shared").await
}

async fn advisory_lock(txn: &impl ConnectionTrait, function: &str) -> Result<(), sea_orm::DbErr> {
    if txn.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    let sql = format!("SELECT {function}($1)");
    txn.execute_raw(Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        sql,
        [ERASURE_LOCK.into()],
    ))
    .await?;
    Ok(())
}

/// Records (or moves forward) the tombstone of `id`.
pub(super) async fn record_erasure(
    txn: &impl ConnectionTrait,
    id: &str,
    at: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    let mut insert = Query::insert();
    insert
        .into_table(erased_person::Entity)
        .columns([erased_person::Column::PersonDigest, erased_person::Column::ErasedAt])
        .values_panic([person_digest(id).into(), at.into()])
        .on_conflict(
            OnConflict::column(erased_person::Column::PersonDigest)
                .update_column(erased_person::Column::ErasedAt)
                .to_owned(),
        );
    txn.execute(&insert).await?;
    Ok(())
}

/// The ids of the events in `events` that belong to erased attendance.
pub(super) async fn erased_events(
    txn: &impl ConnectionTrait,
    events: &[&AttendanceEvent],
) -> Result<HashSet<Uuid>, sea_orm::DbErr> {
    let people: HashSet<&str> = events.iter().map(|e| e.person_id.as_str()).collect();
    let digests: HashMap<String, &str> = people.iter().map(|p| (person_digest(p), *p)).collect();
    let mut erased_at: HashMap<&str, DateTime<Utc>> = HashMap::new();
    for chunk in digests.keys().cloned().collect::<Vec<_>>().chunks(1_000) {
        let rows = erased_person::Entity::find()
            .filter(erased_person::Column::PersonDigest.is_in(chunk.to_vec()))
            .all(txn)
            .await?;
        for row in rows {
            if let Some(person) = digests.get(&row.person_digest) {
                erased_at.insert(person, row.erased_at);
            }
        }
    }
    if erased_at.is_empty() {
        return Ok(HashSet::new());
    }
    let tombstoned: Vec<String> = erased_at.keys().map(|p| (*p).to_owned()).collect();
    let existing: HashSet<String> = person::Entity::find()
        .select_only()
        .column(person::Column::Id)
        .filter(person::Column::Id.is_in(tombstoned))
        .into_tuple()
        .all(txn)
        .await?
        .into_iter()
        .collect();
    Ok(events
        .iter()
        .filter(|e| {
            erased_at
                .get(e.person_id.as_str())
                .is_some_and(|at| !existing.contains(e.person_id.as_str()) || e.seen_at <= *at)
        })
        .map(|e| e.event_id)
        .collect())
}

impl super::Store {
    /// Whether `id` has a tombstone: with no person under it (what callers check first), it
    /// was erased and not enrolled again.
    pub async fn has_tombstone(&self, id: &crate::domain::PersonId) -> Result<bool, sea_orm::DbErr> {
        Ok(erased_person::Entity::find_by_id(person_digest(id.as_str()))
            .one(&self.db)
            .await?
            .is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_is_stable_and_does_not_show_the_id() {
        let digest = person_digest("obama");
        assert_eq!(digest.len(), 64);
        assert_eq!(digest, person_digest("obama"));
        assert_ne!(digest, person_digest("obama2"));
        assert!(!digest.contains("obama"));
    }
}
