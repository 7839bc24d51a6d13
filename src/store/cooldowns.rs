//! The cooldown ledger: the last time each camera emitted each person, kept durable so that a
//! recognizer taking over a camera's partition suppresses exactly what its predecessor would have.

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Query};

use super::Store;
use crate::domain::{CameraId, PersonId};

fn table() -> Alias {
    Alias::new("recognize_cooldowns")
}

impl Store {
    /// Records emissions; a later time wins, so recording the same emission twice (after a
    /// redelivery) or out of order leaves the latest.
    pub async fn record_emissions(
        &self,
        emitted: &[(CameraId, PersonId, DateTime<Utc>)],
    ) -> Result<(), sea_orm::DbErr> {
        if emitted.is_empty() {
            return Ok(());
        }
        let (camera, person, at) = (
            Alias::new("camera_id"),
            Alias::new("person_id"),
            Alias::new("last_emitted_at"),
        );
        let mut insert = Query::insert();
        insert
            .into_table(table())
            .columns([camera.clone(), person.clone(), at.clone()]);
        for (c, p, t) in emitted {
            insert.values_panic([c.as_str().into(), p.as_str().into(), (*t).into()]);
        }
        // CASE rather than GREATEST: SQLite has no GREATEST.
        insert.on_conflict(
            OnConflict::columns([camera, person])
                .value(
                    at,
                    Expr::cust(
                        "CASE WHEN excluded.last_emitted_at > recognize_cooldowns.last_emitted_at \
                         THEN excluded.last_emitted_at ELSE recognize_cooldowns.last_emitted_at END",
                    ),
                )
                .to_owned(),
        );
        self.db.execute(&insert).await?;
        Ok(())
    }

    /// The latest stored attendance event of each person at `camera` from frames before
    /// `before_seq`, seen at or after `since`: the cooldown state those frames left, as far as
    /// it is durable, for a recognizer whose bus does not keep acknowledged events.
    pub async fn stored_emissions_before(
        &self,
        camera: &CameraId,
        before_seq: u64,
        since: DateTime<Utc>,
    ) -> Result<Vec<(PersonId, DateTime<Utc>)>, sea_orm::DbErr> {
        use super::entities::attendance_event as event;
        let mut select = Query::select();
        select
            .column(event::Column::PersonId)
            .expr(Expr::col(event::Column::SeenAt).max())
            .from(event::Entity)
            .and_where(Expr::col(event::Column::CameraId).eq(camera.as_str()))
            .and_where(Expr::col(event::Column::FrameSeq).lt(i64::try_from(before_seq).unwrap_or(i64::MAX)))
            .and_where(Expr::col(event::Column::SeenAt).gte(since))
            .group_by_col(event::Column::PersonId);
        people_and_times(self.db.query_all(&select).await?)
    }

    /// The people `camera` emitted at or after `since`, with the time of the last emission.
    pub async fn emissions_since(
        &self,
        camera: &CameraId,
        since: DateTime<Utc>,
    ) -> Result<Vec<(PersonId, DateTime<Utc>)>, sea_orm::DbErr> {
        let mut select = Query::select();
        select
            .columns([Alias::new("person_id"), Alias::new("last_emitted_at")])
            .from(table())
            .and_where(Expr::col(Alias::new("camera_id")).eq(camera.as_str()))
            .and_where(Expr::col(Alias::new("last_emitted_at")).gte(since));
        people_and_times(self.db.query_all(&select).await?)
    }
}

/// Rows of (person id, time) as values. Only valid ids are ever written; a hand-edited row is
/// skipped rather than fatal.
fn people_and_times(rows: Vec<sea_orm::QueryResult>) -> Result<Vec<(PersonId, DateTime<Utc>)>, sea_orm::DbErr> {
    let mut out = Vec::new();
    for row in rows {
        let person: String = row.try_get_by_index(0)?;
        let at: DateTime<Utc> = row.try_get_by_index(1)?;
        if let Ok(person) = PersonId::parse(&person) {
            out.push((person, at));
        }
    }
    Ok(out)
}
