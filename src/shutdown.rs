//! Shutdown on Ctrl-C / SIGTERM: the first signal asks stages to drain, a second exits at once.

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

/// Returns a token cancelled by the first signal. A second signal ends the process with 130.
pub fn on_signals() -> CancellationToken {
    let token = CancellationToken::new();
    let first = token.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutdown requested: draining (signal again to exit at once)");
        first.cancel();
        wait_for_signal().await;
        tracing::warn!("second signal: exiting without draining");
        std::process::exit(130);
    });
    token
}

/// A token cancelled `timeout` after `shutdown` is: the hard limit on draining.
pub fn drain_deadline(shutdown: &CancellationToken, timeout: std::time::Duration) -> CancellationToken {
    let deadline = CancellationToken::new();
    let (shutdown, cut) = (shutdown.clone(), deadline.clone());
    tokio::spawn(async move {
        tokio::select! {
            _ = shutdown.cancelled() => {}
            _ = cut.cancelled() => return,
        }
        tokio::time::sleep(timeout).await;
        tracing::warn!(timeout_secs = timeout.as_secs(), "drain timed out; stopping");
        cut.cancel();
    });
    deadline
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ShutdownConfig {
    /// How long a stage may take to drain after the first Ctrl-C / SIGTERM.
    pub drain_timeout_secs: u64,
}

impl Default for ShutdownConfig {
    fn default() -> Self {
        Self { drain_timeout_secs: 30 }
    }
}
