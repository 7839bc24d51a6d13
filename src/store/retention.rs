//! Retention: deletes attendance older than a cutoff, and cooldown-ledger entries nobody can
//! need any more, in small batches (short transactions, no long locks on a busy table).

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, TransactionTrait};

use super::Store;
use super::entities::{
    attendance_day as day, attendance_event as event, attendance_retraction as retraction,
    recognize_cooldown as cooldown,
};
use crate::cache::keys;

/// What one retention run deleted.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Deleted {
    pub events: u64,
    pub days: u64,
    pub cooldowns: u64,
    pub unknown_faces: u64,
    /// Unknown-face clusters left empty, deleted.
    pub unknown_clusters: u64,
    /// Cache keys whose generation moved on because their days were deleted.
    pub generations: Vec<(String, i64)>,
}

impl Store {
    /// Deletes attendance events seen before `cutoff` and attendance days before its date (none
    /// without a cutoff), `batch` rows per transaction, bumping the cache generations of every
    /// deleted day; and cooldown entries older than `cooldown_cutoff`.
    pub async fn delete_attendance_before(
        &self,
        cutoff: Option<DateTime<Utc>>,
        cooldown_cutoff: DateTime<Utc>,
        batch: u64,
    ) -> Result<Deleted, sea_orm::DbErr> {
        let mut deleted = Deleted::default();
        if let Some(cutoff) = cutoff {
            self.delete_events_and_days(cutoff, batch, &mut deleted).await?;
            let mut retractions = Query::delete();
            retractions
                .from_table(retraction::Entity)
                .and_where(Expr::col(retraction::Column::SeenAt).lt(cutoff));
            self.db.execute(&retractions).await?;
        }
        let mut stale = Query::delete();
        stale
            .from_table(cooldown::Entity)
            .and_where(Expr::col(cooldown::Column::LastEmittedAt).lt(cooldown_cutoff));
        deleted.cooldowns = self.db.execute(&stale).await?.rows_affected();
        Ok(deleted)
    }

    async fn delete_events_and_days(
        &self,
        cutoff: DateTime<Utc>,
        batch: u64,
        deleted: &mut Deleted,
    ) -> Result<(), sea_orm::DbErr> {
        loop {
            let mut oldest = Query::select();
            oldest
                .column(event::Column::EventId)
                .from(event::Entity)
                .and_where(Expr::col(event::Column::SeenAt).lt(cutoff))
                .limit(batch);
            let mut delete = Query::delete();
            delete
                .from_table(event::Entity)
                .and_where(Expr::col(event::Column::EventId).in_subquery(oldest));
            let gone = self.db.execute(&delete).await?.rows_affected();
            deleted.events += gone;
            if gone < batch {
                break;
            }
        }
        let first_kept: NaiveDate = cutoff.date_naive();
        loop {
            let txn = self.db.begin().await?;
            let mut oldest = Query::select();
            oldest
                .columns([day::Column::PersonId, day::Column::Day])
                .from(day::Entity)
                .and_where(Expr::col(day::Column::Day).lt(first_kept))
                .order_by(day::Column::Day, sea_orm::sea_query::Order::Asc)
                .limit(batch);
            let rows: Vec<(String, NaiveDate)> = txn
                .query_all(&oldest)
                .await?
                .iter()
                .map(|r| Ok((r.try_get_by_index::<String>(0)?, r.try_get_by_index::<NaiveDate>(1)?)))
                .collect::<Result<_, sea_orm::DbErr>>()?;
            if rows.is_empty() {
                txn.commit().await?;
                break;
            }
            for (person, on) in &rows {
                let mut delete = Query::delete();
                delete
                    .from_table(day::Entity)
                    .and_where(Expr::col(day::Column::PersonId).eq(person.as_str()))
                    .and_where(Expr::col(day::Column::Day).eq(*on));
                txn.execute(&delete).await?;
            }
            deleted
                .generations
                .extend(super::changes::bump(&txn, &keys::affected_by(&rows)).await?);
            txn.commit().await?;
            deleted.days += rows.len() as u64;
            if (rows.len() as u64) < batch {
                break;
            }
        }
        Ok(())
    }
}
