//! What every change writes beside its data, in the same transaction: the audit log entry and
//! the cache generations of the keys it affects.

use chrono::Utc;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ConnectionTrait, DatabaseTransaction, TransactionTrait};
use uuid::Uuid;

use super::Store;

/// One audit log entry.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub id: Uuid,
    pub at: chrono::DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub details: serde_json::Value,
}

impl Store {
    /// Records an audit entry on its own (for changes made outside a store transaction).
    pub async fn audit(
        &self,
        actor: &str,
        action: &str,
        subject: &str,
        details: serde_json::Value,
    ) -> Result<Uuid, sea_orm::DbErr> {
        let txn = self.db.begin().await?;
        let id = audit(&txn, actor, action, subject, details).await?;
        txn.commit().await?;
        Ok(id)
    }

    /// Audit entries about `subject`, oldest first: (id, at, actor, action, details).
    pub async fn audit_entries(&self, subject: &str) -> Result<Vec<AuditEntry>, sea_orm::DbErr> {
        let mut select = Query::select();
        select
            .columns(["id", "at", "actor", "action", "details"].map(Alias::new))
            .from(Alias::new("audit_log"))
            .and_where(Expr::col(Alias::new("subject")).eq(subject))
            .order_by(Alias::new("at"), sea_orm::Order::Asc);
        let mut out = Vec::new();
        for row in self.db.query_all(&select).await? {
            let details: String = row.try_get_by_index(4)?;
            out.push(AuditEntry {
                id: row.try_get_by_index(0)?,
                at: row.try_get_by_index(1)?,
                actor: row.try_get_by_index(2)?,
                action: row.try_get_by_index(3)?,
                subject: subject.to_owned(),
                details: serde_json::from_str(&details).unwrap_or(serde_json::Value::String(details)),
            });
        }
        Ok(out)
    }

    /// Bumps the generations of `changed` keys on their own (after enrolment, camera changes).
    pub async fn bump_generations(&self, changed: &[String]) -> Result<Vec<(String, i64)>, sea_orm::DbErr> {
        let txn = self.db.begin().await?;
        let generations = bump(&txn, changed).await?;
        txn.commit().await?;
        Ok(generations)
    }
}

pub(super) async fn bump(txn: &impl ConnectionTrait, changed: &[String]) -> Result<Vec<(String, i64)>, sea_orm::DbErr> {
    let mut generations = Vec::new();
    let backend = txn.get_database_backend();
    for chunk in changed.chunks(super::rows::rows_per_statement(backend)) {
        for row in txn.query_all(&bump_generations(chunk, backend)?).await? {
            generations.push((row.try_get_by_index::<String>(0)?, row.try_get_by_index::<i64>(1)?));
        }
    }
    super::generations::announce(txn, &generations).await?;
    Ok(generations)
}

/// The generation `bump` gave `key` (0 if it was not among the keys bumped).
pub(super) fn generation_of(generations: &[(String, i64)], key: &str) -> i64 {
    generations.iter().find(|(k, _)| k == key).map_or(0, |(_, g)| *g)
}

/// Generation 1 for new keys, one more for known ones; returns (key, generation).
fn bump_generations(
    keys: &[String],
    backend: sea_orm::DatabaseBackend,
) -> Result<sea_orm::sea_query::InsertStatement, sea_orm::DbErr> {
    let (table, key, generation) = (
        Alias::new("cache_generations"),
        Alias::new("key"),
        Alias::new("generation"),
    );
    let mut insert = Query::insert();
    insert.into_table(table).columns([key.clone(), generation.clone()]);
    let mut rows = super::rows::Rows::new(backend, &["text", "int8"]);
    for k in keys {
        rows.push(&[&k.as_str(), &1i64]);
    }
    rows.into(&mut insert)?;
    insert
        .on_conflict(
            OnConflict::column(key.clone())
                .value(generation.clone(), Expr::cust("cache_generations.generation + 1"))
                .to_owned(),
        )
        .returning(Query::returning().columns([key, generation]));
    Ok(insert)
}

pub(super) async fn audit(
    txn: &DatabaseTransaction,
    actor: &str,
    action: &str,
    subject: &str,
    details: serde_json::Value,
) -> Result<Uuid, sea_orm::DbErr> {
    let id = Uuid::new_v4();
    let entry = AuditEntry {
        id,
        at: super::now(),
        actor: actor.to_owned(),
        action: action.to_owned(),
        subject: subject.to_owned(),
        details,
    };
    record_audit(txn, &entry).await?;
    Ok(id)
}

/// Records `entry` under its own id; recording the same id again changes nothing (entries that
/// a fold writes, such as attendance corrections, are written again by every redelivery and replay).
pub(super) async fn record_audit(txn: &impl ConnectionTrait, entry: &AuditEntry) -> Result<(), sea_orm::DbErr> {
    let mut insert = Query::insert();
    insert
        .into_table(Alias::new("audit_log"))
        .columns(["id", "at", "actor", "action", "subject", "details"].map(Alias::new))
        .values_panic([
            entry.id.into(),
            entry.at.into(),
            entry.actor.as_str().into(),
            entry.action.as_str().into(),
            entry.subject.as_str().into(),
            entry.details.to_string().into(),
        ])
        .on_conflict(OnConflict::column(Alias::new("id")).do_nothing().to_owned());
    txn.execute(&insert).await?;
    Ok(())
}
