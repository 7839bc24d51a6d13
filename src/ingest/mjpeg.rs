//! MJPEG cameras: one long HTTP response of `multipart/x-mixed-replace` parts, each a JPEG.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::live::{Capture, Delivery, reconnect_backoff, take_jpegs};

/// `source = "mjpeg"`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MjpegConfig {
    /// The URL of the `multipart/x-mixed-replace` stream.
    pub url: String,
}

#[async_trait]
impl Capture for MjpegConfig {
    async fn capture(&self, _fps: f64, delivery: Arc<Delivery>, stop: CancellationToken) -> anyhow::Result<()> {
        capture(&self.url, &delivery, &stop).await
    }
}

/// Reads the stream at `url` until `stop`, reconnecting with backoff whenever it ends or fails.
async fn capture(url: &str, delivery: &Delivery, stop: &CancellationToken) -> anyhow::Result<()> {
    let client = crate::http::client()?;
    let mut backoff = reconnect_backoff();
    loop {
        let streamed = tokio::select! {
            _ = stop.cancelled() => return Ok(()),
            streamed = stream(&client, url, delivery, &mut backoff) => streamed,
        };
        delivery.set_up(false);
        if let Err(e) = streamed {
            tracing::debug!(error = %e, "MJPEG stream failed");
        }
        tokio::select! {
            _ = stop.cancelled() => return Ok(()),
            _ = tokio::time::sleep(backoff.next_delay()) => {}
        }
    }
}

/// One connection: returns when the stream ends. The parts are cut out by their JPEG markers,
/// which holds whatever boundary and part headers the camera uses.
async fn stream(
    client: &reqwest::Client,
    url: &str,
    delivery: &Delivery,
    backoff: &mut crate::retry::Backoff,
) -> anyhow::Result<()> {
    let mut response = client.get(url).send().await?;
    if !response.status().is_success() {
        anyhow::bail!("{url}: HTTP {}", response.status());
    }
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if !content_type.starts_with("multipart/") {
        anyhow::bail!("{url}: content type {content_type:?} is not an MJPEG stream");
    }
    let mut buffer = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        buffer.extend_from_slice(&chunk);
        // A camera sending no complete image within the largest one allowed is not an MJPEG camera.
        let images = take_jpegs(&mut buffer).map_err(|e| anyhow::anyhow!("{url}: {e}"))?;
        for image in images {
            delivery.set_up(true);
            *backoff = reconnect_backoff();
            delivery.offer(image);
        }
    }
    Ok(())
}
