//! The NATS control plane: gallery changes that every recognizer applies at once, and each
//! attendance event fanned out live on `rollcall.live.{camera}` for displays and door controllers.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::bus::{BusError, Producer};
use crate::domain::{AttendanceEvent, PersonId};

pub const GALLERY_SUBJECT: &str = "rollcall.gallery.changed";

pub fn live_subject(camera: &str) -> String {
    format!("rollcall.live.{camera}")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Enrolled,
    Updated,
    Erased,
}

/// What changed in the gallery. Recognizers read the person's templates from the store, the source of truth, so the
/// message carries no embedding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GalleryChange {
    pub kind: ChangeKind,
    pub person_id: PersonId,
    pub model_id: String,
    pub templates: usize,
    /// The gallery generation the change committed: one more than the change before it, so a
    /// recognizer can tell it missed one. Absent from older senders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<i64>,
}

pub async fn connect(url: &str) -> anyhow::Result<async_nats::Client> {
    async_nats::connect(url)
        .await
        .map_err(|e| anyhow::anyhow!("connecting to NATS at {url}: {e}"))
}

pub async fn publish_gallery_change(client: &async_nats::Client, change: &GalleryChange) -> anyhow::Result<()> {
    let payload = serde_json::to_vec(change)?;
    client.publish(GALLERY_SUBJECT, payload.into()).await?;
    // Enrolment is a short-lived command: make sure the message left before it exits.
    client.flush().await?;
    Ok(())
}

/// Sends each event to the durable bus first, then publishes it live. The live copy is best
/// effort: the attendance record is the Kafka event, and a display can miss a beat.
pub struct LiveTee {
    pub inner: Arc<dyn Producer<AttendanceEvent>>,
    pub nats: async_nats::Client,
}

#[async_trait]
impl Producer<AttendanceEvent> for LiveTee {
    async fn send(&self, key: &str, event: AttendanceEvent) -> Result<(), BusError> {
        let subject = live_subject(event.camera_id.as_str());
        let payload = serde_json::to_vec(&event).expect("events serialise to JSON");
        self.inner.send(key, event).await?;
        let mut headers = async_nats::HeaderMap::new();
        if let Some(trace_parent) = crate::telemetry::context::current_traceparent() {
            headers.insert(crate::telemetry::context::TRACEPARENT, trace_parent.as_str());
        }
        if let Err(e) = self.nats.publish_with_headers(subject, headers, payload.into()).await {
            tracing::warn!(error = %e, "live attendance event not published");
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NatsConfig {
    /// `nats://host:4222`. Unset: no gallery broadcasts and no live events (the embedded default).
    pub url: Option<String>,
    /// Recognizers also reload the gallery this often, in case a change message was missed.
    pub gallery_reload_secs: u64,
}

impl Default for NatsConfig {
    fn default() -> Self {
        Self {
            url: None,
            gallery_reload_secs: 60,
        }
    }
}
