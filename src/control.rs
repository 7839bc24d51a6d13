//! The NATS control plane: gallery changes that every recognizer applies at once, and each
//! attendance event fanned out live on `{prefix}.live.{camera}` for displays and door
//! controllers, and each camera's state on `{prefix}.cameras.{camera}`. The prefix (`nats.subject_prefix`, `rollcall` by default) keeps deployments that
//! share a NATS server from hearing each other's changes.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::bus::{BusError, Producer};
use crate::domain::{AttendanceEvent, PersonId};

/// A NATS connection and this deployment's subjects.
#[derive(Debug, Clone)]
pub struct Nats {
    client: async_nats::Client,
    prefix: String,
}

impl Nats {
    /// Connects when `nats.url` is set; `None` otherwise.
    pub async fn connect(config: &NatsConfig) -> anyhow::Result<Option<Nats>> {
        let Some(url) = &config.url else { return Ok(None) };
        let client = async_nats::connect(url)
            .await
            .map_err(|e| anyhow::anyhow!("connecting to NATS at {url}: {e}"))?;
        Ok(Some(Nats {
            client,
            prefix: config.subject_prefix.clone(),
        }))
    }

    pub fn client(&self) -> &async_nats::Client {
        &self.client
    }

    /// Where gallery changes are announced.
    pub fn gallery_subject(&self) -> String {
        format!("{}.gallery.changed", self.prefix)
    }

    /// Where a camera's attendance events are published live.
    pub fn live_subject(&self, camera: &str) -> String {
        format!("{}.live.{camera}", self.prefix)
    }

    /// Every camera's live events, for the console's Today page (`>`: camera ids may hold dots).
    pub fn live_subjects(&self) -> String {
        format!("{}.live.>", self.prefix)
    }

    /// Where an ingestor announces a camera's state.
    pub fn camera_status_subject(&self, camera: &str) -> String {
        format!("{}.cameras.{camera}", self.prefix)
    }

    /// Every camera's state announcements (`>`: camera ids may hold dots).
    pub fn camera_status_subjects(&self) -> String {
        format!("{}.cameras.>", self.prefix)
    }

    pub async fn publish_gallery_change(&self, change: &GalleryChange) -> anyhow::Result<()> {
        let payload = serde_json::to_vec(change)?;
        self.client.publish(self.gallery_subject(), payload.into()).await?;
        // Enrolment is a short-lived command: make sure the message left before it exits.
        self.client.flush().await?;
        Ok(())
    }
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

/// Sends each event to the durable bus first, then publishes it live. The live copy is best
/// effort: the attendance record is the Kafka event, and a display can miss a beat.
pub struct LiveTee {
    pub inner: Arc<dyn Producer<AttendanceEvent>>,
    pub nats: Nats,
}

#[async_trait]
impl Producer<AttendanceEvent> for LiveTee {
    async fn send(&self, key: &str, event: AttendanceEvent) -> Result<(), BusError> {
        let subject = self.nats.live_subject(event.camera_id.as_str());
        let payload = serde_json::to_vec(&event).expect("events serialise to JSON");
        self.inner.send(key, event).await?;
        let mut headers = async_nats::HeaderMap::new();
        if let Some(trace_parent) = crate::telemetry::context::current_traceparent() {
            headers.insert(crate::telemetry::context::TRACEPARENT, trace_parent.as_str());
        }
        if let Err(e) = self
            .nats
            .client
            .publish_with_headers(subject, headers, payload.into())
            .await
        {
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
    /// The first part of every subject: `{prefix}.gallery.changed`, `{prefix}.live.{camera}`.
    /// Deployments sharing a NATS server each need their own.
    pub subject_prefix: String,
}

impl Default for NatsConfig {
    fn default() -> Self {
        Self {
            url: None,
            gallery_reload_secs: 60,
            subject_prefix: "rollcall".into(),
        }
    }
}
