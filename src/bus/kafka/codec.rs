//! How values become Kafka messages and back: payload bytes plus headers.

use std::marker::PhantomData;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::bus::DeadLetter;
use crate::domain::{CameraId, Frame, Validate};

/// A message ready for Kafka (the key is given separately).
#[derive(Debug, Clone, PartialEq)]
pub struct Encoded {
    pub payload: Vec<u8>,
    pub headers: Vec<(String, String)>,
}

/// Why a message could not be decoded: a stable kind and a human reason. Always permanent.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodeFailure {
    pub kind: &'static str,
    pub reason: String,
}

pub trait Codec<T>: Send + Sync + 'static {
    fn encode(&self, value: &T) -> Encoded;
    fn decode(&self, key: &str, payload: &[u8], headers: &[(String, Vec<u8>)]) -> Result<T, DecodeFailure>;
    /// Whether a decoded record keeps its original bytes too (see `Record::payload`).
    fn keeps_payload(&self) -> bool {
        false
    }
}

fn header<'a>(headers: &'a [(String, Vec<u8>)], name: &str) -> Result<&'a str, DecodeFailure> {
    let (_, value) = headers.iter().find(|(k, _)| k == name).ok_or_else(|| DecodeFailure {
        kind: "missing_header",
        reason: format!("header {name} is missing"),
    })?;
    std::str::from_utf8(value).map_err(|_| DecodeFailure {
        kind: "invalid_header",
        reason: format!("header {name} is not UTF-8"),
    })
}

fn invalid(name: &str, e: impl std::fmt::Display) -> DecodeFailure {
    DecodeFailure {
        kind: "invalid_header",
        reason: format!("header {name}: {e}"),
    }
}

/// Frames: the image bytes as payload; camera, sequence, capture time and content type in
/// headers (docs/contracts.md, section 1.2), so that no consumer needs to parse an envelope around the image.
#[derive(Debug, Clone, Copy, Default)]
pub struct FrameCodec;

impl Codec<Frame> for FrameCodec {
    fn encode(&self, frame: &Frame) -> Encoded {
        Encoded {
            payload: frame.data.clone(),
            headers: vec![
                ("camera-id".into(), frame.camera.to_string()),
                ("frame-seq".into(), frame.seq.to_string()),
                (
                    "captured-at".into(),
                    frame.captured_at.to_rfc3339_opts(SecondsFormat::Millis, true),
                ),
                ("content-type".into(), frame.content_type.clone()),
            ],
        }
    }

    fn decode(&self, _key: &str, payload: &[u8], headers: &[(String, Vec<u8>)]) -> Result<Frame, DecodeFailure> {
        let camera = CameraId::parse(header(headers, "camera-id")?).map_err(|e| invalid("camera-id", e))?;
        let seq = header(headers, "frame-seq")?
            .parse::<u64>()
            .map_err(|e| invalid("frame-seq", e))?;
        let captured_at = DateTime::parse_from_rfc3339(header(headers, "captured-at")?)
            .map_err(|e| invalid("captured-at", e))?
            .with_timezone(&Utc);
        let content_type = header(headers, "content-type")?.to_owned();
        Ok(Frame {
            camera,
            seq,
            captured_at,
            content_type,
            data: payload.to_vec(),
        })
    }
}

/// JSON values (attendance and unknown-face events).
pub struct JsonCodec<T>(PhantomData<fn() -> T>);

impl<T> Default for JsonCodec<T> {
    fn default() -> Self {
        JsonCodec(PhantomData)
    }
}

impl<T: Serialize + DeserializeOwned + 'static> Codec<T> for JsonCodec<T> {
    fn encode(&self, value: &T) -> Encoded {
        let payload = serde_json::to_vec(value).expect("event types serialise to JSON");
        Encoded {
            payload,
            headers: vec![("content-type".into(), "application/json".into())],
        }
    }

    fn decode(&self, _key: &str, payload: &[u8], _headers: &[(String, Vec<u8>)]) -> Result<T, DecodeFailure> {
        serde_json::from_slice(payload).map_err(|e| DecodeFailure {
            kind: "invalid_json",
            reason: e.to_string(),
        })
    }
}

/// Events (attendance, unknown faces): JSON, checked as the projector needs them (`Validate`),
/// so an event that could never be stored is a dead letter with its original bytes; decoded
/// events keep their bytes for the same reason.
pub struct EventCodec<T>(PhantomData<fn() -> T>);

impl<T> Default for EventCodec<T> {
    fn default() -> Self {
        EventCodec(PhantomData)
    }
}

impl<T: Serialize + DeserializeOwned + Validate + 'static> Codec<T> for EventCodec<T> {
    fn encode(&self, value: &T) -> Encoded {
        JsonCodec::default().encode(value)
    }

    fn decode(&self, key: &str, payload: &[u8], headers: &[(String, Vec<u8>)]) -> Result<T, DecodeFailure> {
        let event: T = JsonCodec::default().decode(key, payload, headers)?;
        event.validate().map_err(|e| DecodeFailure {
            kind: "invalid_event",
            reason: e.to_string(),
        })?;
        Ok(event)
    }

    fn keeps_payload(&self) -> bool {
        true
    }
}

/// Dead letters: the original bytes, and why, where from and which stage, in headers.
#[derive(Debug, Clone)]
pub struct DeadLetterCodec {
    /// The topic the dead letters came from.
    pub source_topic: String,
}

impl Codec<DeadLetter> for DeadLetterCodec {
    fn encode(&self, letter: &DeadLetter) -> Encoded {
        Encoded {
            payload: letter.payload.clone(),
            headers: vec![
                ("stage".into(), letter.stage.clone()),
                ("error-kind".into(), letter.kind.clone()),
                ("error-message".into(), letter.reason.clone()),
                ("source-topic".into(), self.source_topic.clone()),
                ("source-partition".into(), letter.source.partition.to_string()),
                ("source-offset".into(), letter.source.offset.to_string()),
            ],
        }
    }

    fn decode(&self, key: &str, payload: &[u8], headers: &[(String, Vec<u8>)]) -> Result<DeadLetter, DecodeFailure> {
        let number =
            |name: &str| -> Result<i64, DecodeFailure> { header(headers, name)?.parse().map_err(|e| invalid(name, e)) };
        Ok(DeadLetter {
            stage: header(headers, "stage")?.to_owned(),
            kind: header(headers, "error-kind")?.to_owned(),
            reason: header(headers, "error-message")?.to_owned(),
            key: key.to_owned(),
            payload: payload.to_vec(),
            source: crate::bus::Position {
                partition: number("source-partition")? as i32,
                offset: number("source-offset")?,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn as_received(e: &Encoded) -> Vec<(String, Vec<u8>)> {
        e.headers
            .iter()
            .map(|(k, v)| (k.clone(), v.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn frames_round_trip_through_headers() {
        let frame = Frame {
            camera: CameraId::parse("door").unwrap(),
            seq: 42,
            captured_at: "2026-11-22T08:00:00.123Z".parse().unwrap(),
            content_type: "image/jpeg".into(),
            data: vec![0xFF, 0xD8, 1, 2, 3],
        };
        let encoded = FrameCodec.encode(&frame);
        let back = FrameCodec
            .decode("door", &encoded.payload, &as_received(&encoded))
            .unwrap();
        assert_eq!(
            (back.camera, back.seq, back.captured_at, back.data),
            (frame.camera, 42, frame.captured_at, frame.data)
        );
    }

    #[test]
    fn frames_without_headers_are_poison_with_a_reason() {
        let err = FrameCodec.decode("door", b"x", &[]).unwrap_err();
        assert_eq!(err.kind, "missing_header");
        let headers = vec![("camera-id".to_string(), b"Door 1".to_vec())];
        assert_eq!(
            FrameCodec.decode("door", b"x", &headers).unwrap_err().kind,
            "invalid_header"
        );
    }

    #[test]
    fn bad_json_is_poison() {
        let codec = JsonCodec::<crate::domain::AttendanceEvent>::default();
        assert_eq!(codec.decode("k", b"{not json", &[]).unwrap_err().kind, "invalid_json");
    }

    #[test]
    fn dead_letters_carry_their_reason() {
        let codec = DeadLetterCodec {
            source_topic: "rollcall.frames.v1".into(),
        };
        let letter = DeadLetter {
            stage: "recognize".into(),
            kind: "corrupt".into(),
            reason: "truncated JPEG".into(),
            key: "door".into(),
            payload: vec![1, 2],
            source: crate::bus::Position {
                partition: 3,
                offset: 99,
            },
        };
        let encoded = codec.encode(&letter);
        assert!(
            encoded
                .headers
                .contains(&("source-topic".into(), "rollcall.frames.v1".into()))
        );
        let back = codec.decode("door", &encoded.payload, &as_received(&encoded)).unwrap();
        assert_eq!(
            (back.kind, back.reason, back.source.offset),
            ("corrupt".to_string(), "truncated JPEG".to_string(), 99)
        );
    }
}
