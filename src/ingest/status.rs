//! Each camera's state as its ingestor knows it (up or down, when its last frame went out),
//! announced on NATS (`{prefix}.cameras.{camera}`) every `ingest.status_secs`, for displays such
//! as the console's Today page. The state is read from the ingest metrics, the one record of it.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::control::Nats;
use crate::domain::CameraId;
use crate::metrics::metrics;

/// What an ingestor says of one of its cameras.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CameraStatus {
    pub camera_id: String,
    /// Whether the camera (or its folder) answers now.
    pub up: bool,
    /// When its last frame was published, if one was.
    pub last_frame_at: Option<DateTime<Utc>>,
    pub reported_at: DateTime<Utc>,
    /// How often the ingestor reports: a report much older than this means the ingestor is gone.
    pub every_secs: u64,
}

impl CameraStatus {
    /// The camera's state now, from the ingest metrics of this process.
    pub fn now(camera: &CameraId, every: Duration) -> CameraStatus {
        let m = metrics();
        let up = m.ingest_camera_up.with_label_values(&[camera.as_str()]).get() >= 1;
        let last = m.ingest_last_frame.with_label_values(&[camera.as_str()]).get();
        let last_frame_at = (last > 0.0)
            .then(|| DateTime::from_timestamp_millis((last * 1000.0).round() as i64))
            .flatten();
        CameraStatus {
            camera_id: camera.to_string(),
            up,
            last_frame_at,
            reported_at: Utc::now(),
            every_secs: every.as_secs().max(1),
        }
    }

    /// Whether the report is too old to trust: three reports missed.
    pub fn is_stale(&self, now: DateTime<Utc>) -> bool {
        now.signed_duration_since(self.reported_at).num_seconds() > 3 * self.every_secs as i64
    }
}

/// Announces every camera's state every `every` until `stop`; a failed publish is logged and
/// the next round tries again (displays only miss a beat).
pub async fn announce(nats: Nats, cameras: Vec<CameraId>, every: Duration, stop: CancellationToken) {
    let mut tick = tokio::time::interval(every.max(Duration::from_secs(1)));
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        for camera in &cameras {
            let status = CameraStatus::now(camera, every);
            let payload = serde_json::to_vec(&status).expect("a status serialises");
            if let Err(e) = nats
                .client()
                .publish(nats.camera_status_subject(camera.as_str()), payload.into())
                .await
            {
                tracing::warn!(error = %e, camera = %camera, "camera status not announced");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_goes_stale_after_three_missed_rounds() {
        let status = CameraStatus {
            camera_id: "door".into(),
            up: true,
            last_frame_at: None,
            reported_at: Utc::now(),
            every_secs: 10,
        };
        assert!(!status.is_stale(status.reported_at + chrono::TimeDelta::seconds(30)));
        assert!(status.is_stale(status.reported_at + chrono::TimeDelta::seconds(31)));
    }
}
