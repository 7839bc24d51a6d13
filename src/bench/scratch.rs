//! A database of a benchmark's own: on the PostgreSQL server of `store.url` (created empty,
//! dropped at the end), or a SQLite file in a temporary folder; and Redis database 15. A
//! benchmark never touches data it did not create.

use anyhow::Context;
use sea_orm::{ConnectionTrait, Database};

pub struct ScratchDatabase {
    /// The server's maintenance database, from which the scratch one is created and dropped
    /// (PostgreSQL); none for SQLite.
    admin_url: Option<String>,
    name: String,
    pub url: String,
    _folder: Option<tempfile::TempDir>,
}

/// The configured Redis with database 15, so a benchmark's cache keys never meet the real ones.
pub fn scratch_redis(url: &str) -> String {
    let (base, _) = url.split_once('?').unwrap_or((url, ""));
    match base
        .find("://")
        .and_then(|at| base[at + 3..].find('/').map(|slash| at + 3 + slash))
    {
        Some(slash) => format!("{}/15", &base[..slash]),
        None => format!("{base}/15"),
    }
}

impl ScratchDatabase {
    /// Creates `rollcall_bench_<purpose>_<random>` beside the database of `store_url`, or a
    /// SQLite file of that name when the store is SQLite.
    pub async fn create(store_url: &str, purpose: &str) -> anyhow::Result<Self> {
        if store_url.starts_with("sqlite:") {
            let folder = tempfile::tempdir()?;
            let url = format!(
                "sqlite://{}?mode=rwc",
                folder.path().join(format!("bench-{purpose}.db")).display()
            );
            return Ok(Self {
                admin_url: None,
                name: purpose.to_owned(),
                url,
                _folder: Some(folder),
            });
        }
        anyhow::ensure!(
            store_url.starts_with("postgres://") || store_url.starts_with("postgresql://"),
            "store.url must be a sqlite: or postgres:// URL (got {store_url})"
        );
        let name = format!(
            "rollcall_bench_{purpose}_{}",
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        let (admin_url, url) = (with_database(store_url, "postgres"), with_database(store_url, &name));
        let admin = Database::connect(&admin_url)
            .await
            .with_context(|| format!("connecting to {admin_url}"))?;
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .with_context(|| format!("creating the benchmark's database {name}"))?;
        admin.close().await?;
        Ok(Self {
            admin_url: Some(admin_url),
            name,
            url,
            _folder: None,
        })
    }

    pub fn is_postgres(&self) -> bool {
        self.admin_url.is_some()
    }

    pub async fn drop_now(self) -> anyhow::Result<()> {
        let Some(admin_url) = &self.admin_url else {
            return Ok(());
        };
        let admin = Database::connect(admin_url).await?;
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name))
            .await
            .with_context(|| format!("dropping the benchmark's database {}", self.name))?;
        admin.close().await?;
        Ok(())
    }
}

/// Runs `measure` on a scratch database (its URL given), drops the database whatever happened,
/// and prints the report: its lines, or one JSON object with `--json`.
pub async fn measured_in_scratch<R, Fut>(
    store_url: &str,
    purpose: &str,
    json: bool,
    measure: impl FnOnce(String) -> Fut,
) -> anyhow::Result<String>
where
    R: serde::Serialize,
    Fut: std::future::Future<Output = anyhow::Result<(Vec<String>, R)>>,
{
    let database = ScratchDatabase::create(store_url, purpose).await?;
    let measured = measure(database.url.clone()).await;
    database.drop_now().await?;
    let (lines, report) = measured?;
    Ok(if json {
        serde_json::to_string(&report)?
    } else {
        lines.join("\n")
    })
}

/// `url` with its database name replaced by `database` (query parameters kept).
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let after_scheme = base.find("://").map_or(0, |at| at + 3);
    let server_end = base[after_scheme..]
        .find('/')
        .map_or(base.len(), |slash| after_scheme + slash);
    format!("{}/{database}{query}", &base[..server_end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_name_is_replaced_and_the_rest_kept() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/rollcall?sslmode=disable", "x"),
            "postgres://postgres@127.0.0.1:5432/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
    }

    #[test]
    fn benchmarks_use_redis_database_15() {
        assert_eq!(scratch_redis("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379/15");
        assert_eq!(scratch_redis("redis://h:1/0"), "redis://h:1/15");
    }
}
