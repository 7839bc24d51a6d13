//! HTTP snapshot cameras: one JPEG per GET, polled at the camera's fps.

use std::time::Duration;

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::live::{Capture, Delivery, MAX_IMAGE_BYTES, reconnect_backoff};

/// `source = "snapshot"`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotConfig {
    /// The URL answering each GET with one JPEG.
    pub url: String,
}

#[async_trait]
impl Capture for SnapshotConfig {
    async fn capture(&self, fps: f64, delivery: Arc<Delivery>, stop: CancellationToken) -> anyhow::Result<()> {
        capture(&self.url, fps, &delivery, &stop).await
    }
}

/// Polls `url` until `stop`; an unreachable camera is retried with backoff.
async fn capture(url: &str, fps: f64, delivery: &Delivery, stop: &CancellationToken) -> anyhow::Result<()> {
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

/// One image from the camera; an answer over `MAX_IMAGE_BYTES` (declared or as it arrives) is
/// refused without reading the rest.
async fn snapshot(client: &reqwest::Client, url: &str) -> anyhow::Result<Vec<u8>> {
    let mut response = client.get(url).timeout(Duration::from_secs(10)).send().await?;
    if !response.status().is_success() {
        anyhow::bail!("{url}: HTTP {}", response.status());
    }
    let too_large = || anyhow::anyhow!("{url}: the answer is over {MAX_IMAGE_BYTES} bytes, too large for an image");
    if response.content_length().is_some_and(|n| n > MAX_IMAGE_BYTES as u64) {
        return Err(too_large());
    }
    let mut image = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if image.len() + chunk.len() > MAX_IMAGE_BYTES {
            return Err(too_large());
        }
        image.extend_from_slice(&chunk);
    }
    Ok(image)
}
