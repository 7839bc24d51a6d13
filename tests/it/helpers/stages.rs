//! Pipeline stages run as tasks in the test's own process, until a shutdown token is cancelled.

use rollcall::config::Config;
use tokio_util::sync::CancellationToken;

/// Starts the recognizer stage in this process, until `shutdown`.
pub fn spawn_recognize(
    config: &Config,
    shutdown: &CancellationToken,
) -> tokio::task::JoinHandle<anyhow::Result<rollcall::recognize::RecognizeStats>> {
    let (config, shutdown) = (config.clone(), shutdown.clone());
    tokio::spawn(async move { rollcall::topology::recognize(&config, shutdown).await })
}

/// Starts the projector stage in this process, until `shutdown`.
pub fn spawn_project(
    config: &Config,
    shutdown: &CancellationToken,
) -> tokio::task::JoinHandle<anyhow::Result<rollcall::project::ProjectStats>> {
    let (config, shutdown) = (config.clone(), shutdown.clone());
    tokio::spawn(async move { rollcall::topology::project(&config, shutdown).await })
}

/// A recognizer and a projector of `config` in this process, with the configured cameras already
/// ingested into them; `shutdown` stops both.
pub struct StagesAtWork {
    pub shutdown: CancellationToken,
    pub recognize: tokio::task::JoinHandle<anyhow::Result<rollcall::recognize::RecognizeStats>>,
    pub project: tokio::task::JoinHandle<anyhow::Result<rollcall::project::ProjectStats>>,
    pub ingested: rollcall::ingest::IngestStats,
}

/// Starts the recognizer and the projector, then ingests `config`'s cameras (folders are
/// replayed to their end).
pub async fn recognize_and_project_cameras(config: &Config) -> StagesAtWork {
    let shutdown = CancellationToken::new();
    let recognize = spawn_recognize(config, &shutdown);
    let project = spawn_project(config, &shutdown);
    let ingested = rollcall::topology::ingest(config, CancellationToken::new())
        .await
        .unwrap();
    StagesAtWork {
        shutdown,
        recognize,
        project,
        ingested,
    }
}
