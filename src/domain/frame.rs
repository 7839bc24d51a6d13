//! A camera frame as it travels from ingest to recognition, and the marker that ends a camera's
//! finite stream.

use chrono::{DateTime, Utc};

use super::CameraId;

/// The content type of a camera's end-of-stream marker: a record with no image that says the
/// camera sends nothing more (a replayed folder or a video file came to its end).
pub const END_OF_STREAM: &str = "application/vnd.rollcall.end-of-stream";

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

impl Frame {
    /// The marker after a camera's last frame. It travels like a frame (same key, same
    /// partition, after every frame of the camera) so that a recognizer meets it in order.
    pub fn end_of_stream(camera: CameraId, seq: u64, at: DateTime<Utc>) -> Self {
        Self {
            camera,
            seq,
            captured_at: at,
            content_type: END_OF_STREAM.to_owned(),
            data: Vec::new(),
        }
    }

    pub fn is_end_of_stream(&self) -> bool {
        self.content_type == END_OF_STREAM
    }
}
