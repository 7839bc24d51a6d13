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
