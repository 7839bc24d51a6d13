//! A camera frame as it travels from ingest to recognition.

use chrono::{DateTime, Utc};

use super::CameraId;

/// An encoded image from one camera. `seq` increases per camera; together with the camera id it
/// names the frame, so reprocessing the same frame yields the same attendance event ids.
#[derive(Debug, Clone)]
pub struct Frame {
    pub camera: CameraId,
    pub seq: u64,
    pub captured_at: DateTime<Utc>,
    pub content_type: String,
    pub data: Vec<u8>,
}
