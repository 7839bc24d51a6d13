//! Cache generations: bumped beside the data in one transaction, announced to every process at
//! commit by PostgreSQL NOTIFY, and mirrored in memory by the processes that read through the
//! cache, so that a cached read costs no database round trip (docs/cache-generations.md).

pub mod feed;
pub mod mirror;

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
use tokio_util::sync::CancellationToken;

use super::Store;
use mirror::{Lookup, Mirror};

/// The mirror of the database at `url`, one per process: every `Store` opened on the same URL
/// shares it, so what one stage commits (the projector of `rollcall run`) is seen at once by
/// the API of the same process, and one listening connection serves them all.
pub(super) fn mirror_for(url: &str) -> std::sync::Arc<Mirror> {
    static MIRRORS: std::sync::OnceLock<std::sync::Mutex<std::collections::HashMap<String, std::sync::Arc<Mirror>>>> =
        std::sync::OnceLock::new();
    let mut mirrors = MIRRORS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    mirrors.entry(url.to_owned()).or_default().clone()
}

impl Store {
    /// The current generation of a cache key as stored (0 if it never changed).
    pub async fn cache_generation(&self, key: &str) -> Result<i64, sea_orm::DbErr> {
        Ok(self.cache_generations(&[key.to_owned()]).await?[0])
    }

    /// The current generations of several cache keys as stored, in the order given (0 for
    /// never changed).
    pub async fn cache_generations(&self, keys: &[String]) -> Result<Vec<i64>, sea_orm::DbErr> {
        let mut select = Query::select();
        select
            .columns([Alias::new("key"), Alias::new("generation")])
            .from(Alias::new("cache_generations"))
            .and_where(Expr::col(Alias::new("key")).is_in(keys.iter().map(String::as_str)));
        let mut found = std::collections::HashMap::new();
        for row in self.db.query_all(&select).await? {
            found.insert(row.try_get_by_index::<String>(0)?, row.try_get_by_index::<i64>(1)?);
        }
        Ok(keys.iter().map(|k| found.get(k).copied().unwrap_or(0)).collect())
    }

    /// What a cached read versions its entry by: from memory while this process follows the
    /// generations channel and trusts it, else from the database (and remembered).
    pub async fn current_generations(&self, keys: &[String]) -> Result<Vec<i64>, sea_orm::DbErr> {
        let fill = match self.mirror.lookup(keys) {
            Lookup::Known(generations) => {
                crate::metrics::metrics()
                    .cache_generation_lookups
                    .with_label_values(&["memory"])
                    .inc();
                return Ok(generations);
            }
            Lookup::Ask { fill } => fill,
        };
        crate::metrics::metrics()
            .cache_generation_lookups
            .with_label_values(&["database"])
            .inc();
        let generations = self.cache_generations(keys).await?;
        if let Some(epoch) = fill {
            self.mirror.fill(epoch, keys, &generations);
        }
        Ok(generations)
    }

    /// Generations this process committed: applied at once, so that its own next read sees them
    /// even before their notification comes back.
    pub fn observe_generations(&self, generations: &[(String, i64)]) {
        self.mirror
            .apply(generations.iter().map(|(key, generation)| (key.as_str(), *generation)));
    }

    /// Follows the generations channel until `stop`, unless a store of this process already
    /// does (PostgreSQL only: on SQLite every cached read asks the database, a file read away).
    /// Returns whether the mirror is followed.
    pub fn follow_generations(&self, stop: CancellationToken) -> bool {
        if self.db.get_database_backend() != DatabaseBackend::Postgres {
            return false;
        }
        if let Some(claim) = self.mirror.claim() {
            let pool = self.db.get_postgres_connection_pool().clone();
            let mirror = self.mirror.clone();
            tokio::spawn(async move {
                feed::follow(pool, mirror, stop).await;
                drop(claim);
            });
        }
        true
    }

    /// Whether cached reads are versioned from memory now.
    pub fn follows_generations(&self) -> bool {
        self.mirror.is_trusted()
    }

    /// How many connections the generations channel has been followed on (0: not followed).
    pub fn generations_epoch(&self) -> u64 {
        self.mirror.epoch()
    }
}

/// Announces bumps inside their transaction: PostgreSQL delivers them when it commits, and
/// never if it does not.
pub(super) async fn announce(txn: &impl ConnectionTrait, generations: &[(String, i64)]) -> Result<(), sea_orm::DbErr> {
    if txn.get_database_backend() != DatabaseBackend::Postgres || generations.is_empty() {
        return Ok(());
    }
    txn.execute_raw(Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        "SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload",
        [feed::CHANNEL.into(), feed::payloads(generations).into()],
    ))
    .await?;
    Ok(())
}
