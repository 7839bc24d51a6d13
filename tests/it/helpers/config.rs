//! Paths and configuration for one test: the repository, the runtime and models installed by
//! `scripts/setup`, a store and cameras of the test's own, and the NATS server to use.

use std::path::{Path, PathBuf};

use rollcall::config::Config;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Default configuration with the runtime and models installed by `scripts/setup`, and the
/// store and cameras inside `work` so that tests do not share state.
pub fn config(work: &Path) -> Config {
    let mut config = Config::with_home(&repo().join(".rollcall"));
    config.store.url = format!("sqlite://{}?mode=rwc", work.join("rollcall.db").display());
    config.ingest.cameras_dir = work.join("cameras");
    // Tests share one NATS server: each work directory announces on subjects of its own, so no
    // test applies another's gallery changes.
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    std::hash::Hash::hash(&work, &mut hasher);
    config.nats.subject_prefix = format!("test-{:016x}", std::hash::Hasher::finish(&hasher));
    config
}

/// The NATS server the tests use: `ROLLCALL_TEST_NATS` or the local one.
pub fn nats_url() -> String {
    std::env::var("ROLLCALL_TEST_NATS").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}
