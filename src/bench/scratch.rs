//! A PostgreSQL database of a benchmark's own, on the server of `store.url`: created empty,
//! dropped at the end, so that a benchmark never touches data it did not create.

use anyhow::Context;
use sea_orm::{ConnectionTrait, Database};

pub struct ScratchDatabase {
    /// The server's maintenance database, from which the scratch one is created and dropped.
    admin_url: String,
    name: String,
    pub url: String,
}

impl ScratchDatabase {
    /// Creates `rollcall_bench_<purpose>_<random>` beside the database of `store_url`.
    pub async fn create(store_url: &str, purpose: &str) -> anyhow::Result<Self> {
        anyhow::ensure!(
            store_url.starts_with("postgres://") || store_url.starts_with("postgresql://"),
            "this benchmark needs PostgreSQL: set store.url to a postgres:// URL (got {store_url})"
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
        Ok(Self { admin_url, name, url })
    }

    pub async fn drop_now(self) -> anyhow::Result<()> {
        let admin = Database::connect(&self.admin_url).await?;
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name))
            .await
            .with_context(|| format!("dropping the benchmark's database {}", self.name))?;
        admin.close().await?;
        Ok(())
    }
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
}
