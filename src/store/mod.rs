//! The attendance store through sea-orm: PostgreSQL, or SQLite for the embedded default.

mod anchors;
mod attendance;
mod attendance_copy;
mod cameras;
mod changes;
mod config;
mod console_sessions;
mod cooldowns;
mod copy_binary;
mod corrections;
mod directory;
pub mod entities;
mod erased;
mod failure;
mod gallery_rows;
mod generations;
mod groups;
mod negatives;
mod nodelay;
mod notifications;
pub use groups::{GroupDeletion, MembershipChange, Period};
pub use schedules::ScheduleWrite;
mod people;
mod pg_transaction;
mod queries;
mod report;
mod retention;
mod review_decisions;
mod review_matches;
mod rows;
mod schedule_rows;
mod schedules;
mod transfer;
mod unknown_faces;
mod unknown_reads;
mod unknown_recluster;

use std::time::Duration;

use anyhow::Context;
use migration::MigratorTrait;
use sea_orm::{ConnectOptions, Database, DatabaseConnection};

pub use attendance::{BatchOutcome, DayFold, fold_days};
pub use changes::AuditEntry;
pub use config::StoreConfig;
pub use console_sessions::ConsoleSession;
pub use directory::{Erasure, PersonEntry};
pub use erased::person_digest;
pub use failure::is_permanent;
pub use negatives::NegativeAdded;
pub use notifications::{Attempt, DELIVERED, DeliveryView, FAILED, PENDING};
pub use people::{Enrolment, NewTemplate};
pub use queries::DailyStats;
pub use report::{AttendanceRow, render_table};
pub use retention::Deleted;
pub use review_decisions::{ClusterState, ReviewSelection};
pub use review_matches::MatchedFace;
pub use transfer::{TableCopy, copy_store};
pub use unknown_reads::{ClusterSummary, UnknownFaceSummary};

/// A pool of connections to the store.
#[derive(Clone, Debug)]
pub struct Store {
    db: DatabaseConnection,
    /// Cache generations as announced, for reads that need no round trip (see `generations`).
    mirror: std::sync::Arc<generations::mirror::Mirror>,
}

impl Store {
    /// Connects (creating the SQLite file's folder if needed) without migrating.
    pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Store> {
        let sqlite_folder = sqlite_path(url)
            .and_then(|p| std::path::Path::new(p).parent())
            .filter(|p| !p.as_os_str().is_empty());
        if let Some(folder) = sqlite_folder {
            std::fs::create_dir_all(folder).with_context(|| format!("creating {}", folder.display()))?;
        }
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .max_connections(max_connections)
            .connect_timeout(Duration::from_secs(10))
            .acquire_timeout(Duration::from_secs(10))
            // No idle reaper: sqlx 0.9.0's pool maintenance task can wrap its count of idle
            // connections and then spin a core for ever (sqlx issue #3645, fixed after that
            // release); seen here as a benchmark process at 100 % CPU after its pipelines had
            // returned, which also slowed every pipeline run after the first. Without an idle
            // timeout or a lifetime the task is never started; a connection then lives until
            // it fails (checked before each use) or the pool closes.
            .idle_timeout(None::<Duration>)
            .max_lifetime(None::<Duration>)
            .sqlx_logging(false);
        if let Some(port) = postgres_port(url) {
            options.map_sqlx_postgres_pool_opts(move |pool| {
                pool.after_connect(move |_, _| {
                    Box::pin(async move {
                        nodelay::set_on_sockets_to(port);
                        Ok(())
                    })
                })
            });
        }
        let db = Database::connect(options)
            .await
            .with_context(|| format!("connecting to the store at {}", redact(url)))?;
        Ok(Store {
            db,
            mirror: generations::mirror_for(url),
        })
    }

    /// Connects and brings the schema up to date: what every stage does at start.
    pub async fn open(url: &str, max_connections: u32) -> anyhow::Result<Store> {
        let store = Self::connect(url, max_connections).await?;
        store.migrate_up().await?;
        Ok(store)
    }

    /// `open`, retried with backoff until it works or `stop` is cancelled: a long-running stage
    /// started while the database is down waits for it instead of exiting.
    pub async fn open_retrying(
        url: &str,
        max_connections: u32,
        mut backoff: crate::retry::Backoff,
        stop: &tokio_util::sync::CancellationToken,
    ) -> anyhow::Result<Store> {
        loop {
            match Self::open(url, max_connections).await {
                Ok(store) => return Ok(store),
                Err(e) => {
                    let delay = backoff.next_delay();
                    tracing::warn!(
                        error = format!("{e:#}"),
                        retry_in_ms = delay.as_millis() as u64,
                        "store unavailable; retrying"
                    );
                    tokio::select! {
                        _ = stop.cancelled() => return Err(e.context("stopped while waiting for the store")),
                        _ = tokio::time::sleep(delay) => {}
                    }
                }
            }
        }
    }

    pub async fn migrate_up(&self) -> anyhow::Result<()> {
        migration::Migrator::up(&self.db, None)
            .await
            .context("applying migrations")
    }

    pub async fn migrate_down(&self, steps: u32) -> anyhow::Result<()> {
        migration::Migrator::down(&self.db, Some(steps))
            .await
            .context("reverting migrations")
    }

    /// (migration name, applied?) for every migration.
    pub async fn migration_status(&self) -> anyhow::Result<Vec<(String, bool)>> {
        let all = migration::Migrator::get_migration_with_status(&self.db).await?;
        Ok(all
            .iter()
            .map(|m| (m.name().to_owned(), m.status() == migration::MigrationStatus::Applied))
            .collect())
    }

    /// Whether the database answers now.
    pub async fn ping(&self) -> bool {
        self.db.ping().await.is_ok()
    }

    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }
}

/// The time to record, in microseconds: what PostgreSQL keeps, so both backends hold the same
/// value (and a SQLite store copied into PostgreSQL is the same store).
pub(crate) fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::DurationRound;
    let now = chrono::Utc::now();
    now.duration_trunc(chrono::TimeDelta::microseconds(1)).unwrap_or(now)
}

/// The file a `sqlite://` URL names (not for in-memory databases or other backends).
pub fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("sqlite://")?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then_some(path)
}

/// The TCP port of a `postgres://` URL (none for Unix sockets and other backends).
fn postgres_port(url: &str) -> Option<u16> {
    use std::str::FromStr;
    if !url.starts_with("postgres") {
        return None;
    }
    let options = sea_orm::sqlx::postgres::PgConnectOptions::from_str(url).ok()?;
    (!options.get_host().starts_with('/')).then(|| options.get_port())
}

/// The URL without its password, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://app:secret@db:5432/x"),
            "postgres://app:***@db:5432/x"
        );
        assert_eq!(redact("postgres://app@db/x"), "postgres://app@db/x");
        assert_eq!(redact("sqlite://a.db?mode=rwc"), "sqlite://a.db?mode=rwc");
    }

    #[test]
    fn sqlite_paths() {
        assert_eq!(sqlite_path("sqlite://.rollcall/r.db?mode=rwc"), Some(".rollcall/r.db"));
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://x"), None);
    }
}
