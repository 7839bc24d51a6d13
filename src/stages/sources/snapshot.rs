//! HTTP snapshot cameras: one JPEG per GET, polled at the camera's fps.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::{Delivery, reconnect_backoff};

/// Polls `url` until `stop`; an unreachable camera is retried with backoff.
pub(super) async fn capture(url: &str, fps: f64, delivery: &Delivery, stop: &CancellationToken) -> anyhow::Result<()> {
    let client = crate::http::client()?;
    let period = Duration::from_secs_f64(1.0 / if fps > 0.0 { fps } else { 1.0 });
    let mut backoff = reconnect_backoff();
    loop {
        let started = tokio::time::Instant::now();
        let wait = match snapshot(&client, url).await {
            Ok(image) => {
                delivery.set_up(true);
                backoff = reconnect_backoff();
                delivery.offer(image);
                period.saturating_sub(started.elapsed())
            }
            Err(e) => {
                delivery.set_up(false);
                tracing::debug!(error = %e, "snapshot failed");
                backoff.next_delay()
            }
        };
        tokio::select! {
            _ = stop.cancelled() => return Ok(()),
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

async fn snapshot(client: &reqwest::Client, url: &str) -> anyhow::Result<Vec<u8>> {
    let response = client.get(url).timeout(Duration::from_secs(10)).send().await?;
    if !response.status().is_success() {
        anyhow::bail!("{url}: HTTP {}", response.status());
    }
    Ok(response.bytes().await?.to_vec())
}
