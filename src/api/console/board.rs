//! The cameras' states as their ingestors last announced them on NATS, kept by `rollcall serve`
//! for the Today page (which also follows the announcements live).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use crate::control::Nats;
use crate::ingest::status::CameraStatus;

/// The latest announcement of each camera.
#[derive(Debug, Clone, Default)]
pub struct CameraBoard(Arc<Mutex<HashMap<String, CameraStatus>>>);

impl CameraBoard {
    pub fn get(&self, camera: &str) -> Option<CameraStatus> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).get(camera).cloned()
    }

    fn note(&self, status: CameraStatus) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(status.camera_id.clone(), status);
    }

    /// Keeps the board current from the announcements until `stop`.
    pub async fn follow(self, nats: Nats, stop: CancellationToken) {
        let mut announcements = match nats.client().subscribe(nats.camera_status_subjects()).await {
            Ok(subscriber) => subscriber,
            Err(e) => {
                tracing::warn!(error = %e, "camera states not followed: the Today page shows none");
                return;
            }
        };
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                next = announcements.next() => match next {
                    Some(message) => match serde_json::from_slice::<CameraStatus>(&message.payload) {
                        Ok(status) => self.note(status),
                        Err(e) => tracing::debug!(error = %e, "not a camera state; ignored"),
                    },
                    None => return,
                },
            }
        }
    }
}

/// A camera's state in words, for the page: up, down, or how long no ingestor has said.
pub fn describe(status: Option<&CameraStatus>, now: chrono::DateTime<chrono::Utc>) -> (&'static str, String) {
    let Some(status) = status else {
        return ("unknown", "no report".to_owned());
    };
    if status.is_stale(now) {
        return (
            "unknown",
            format!("no report since {}", status.reported_at.format("%H:%M:%S")),
        );
    }
    let state = if status.up { "up" } else { "down" };
    (state, state.to_owned())
}
