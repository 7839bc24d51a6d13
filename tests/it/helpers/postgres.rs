//! PostgreSQL for the tests: one fresh database per test on the server named by
//! `ROLLCALL_TEST_POSTGRES` (or the local one), and outages of one database on demand.

use sea_orm::{ConnectionTrait, Database};

/// The server the tests use: `ROLLCALL_TEST_POSTGRES` or the local one (trust auth).
fn server() -> String {
    std::env::var("ROLLCALL_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

async fn admin() -> sea_orm::DatabaseConnection {
    Database::connect(format!("{}/postgres", server()))
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL must be running at {} for these tests: {e}", server()))
}

/// A database created for one test and dropped by `drop_now`.
pub struct TestDatabase {
    name: String,
    pub url: String,
}

impl TestDatabase {
    pub async fn create() -> TestDatabase {
        let name = format!("rollcall_test_{}", uuid::Uuid::new_v4().simple());
        admin()
            .await
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        TestDatabase {
            url: format!("{}/{name}", server()),
            name,
        }
    }

    pub async fn drop_now(self) {
        admin()
            .await
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name))
            .await
            .unwrap();
    }
}

/// Turns connections to `db` off (and drops the open ones), or back on.
pub async fn set_database_reachable(db: &str, reachable: bool) {
    let admin = admin().await;
    admin
        .execute_unprepared(&format!("ALTER DATABASE {db} ALLOW_CONNECTIONS {reachable}"))
        .await
        .unwrap();
    if !reachable {
        let kill = format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db}'");
        admin.execute_unprepared(&kill).await.unwrap();
    }
}
