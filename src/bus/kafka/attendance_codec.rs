//! The attendance topic's records: a camera's sighting is an attendance event's JSON, as it always
//! was; a correction is a correction's JSON under the header `record-kind: correction`, so a
//! consumer tells them apart without parsing twice, and one that knows only sightings can skip
//! corrections by the header.

use super::codec::{Codec, DecodeFailure, Encoded, EventCodec};
use crate::domain::{AttendanceCorrection, AttendanceEvent, AttendanceRecord};

/// The header naming a record's kind; absent on sightings.
pub const RECORD_KIND_HEADER: &str = "record-kind";
pub const CORRECTION_KIND: &str = "correction";

#[derive(Debug, Clone, Copy, Default)]
pub struct AttendanceCodec;

impl Codec<AttendanceRecord> for AttendanceCodec {
    fn encode(&self, record: &AttendanceRecord) -> Encoded {
        match record {
            AttendanceRecord::Sighting(event) => EventCodec::<AttendanceEvent>::default().encode(event),
            AttendanceRecord::Correction(correction) => {
                let mut encoded = EventCodec::<AttendanceCorrection>::default().encode(correction);
                encoded
                    .headers
                    .push((RECORD_KIND_HEADER.into(), CORRECTION_KIND.into()));
                encoded
            }
        }
    }

    fn decode(
        &self,
        key: &str,
        payload: &[u8],
        headers: &[(String, Vec<u8>)],
    ) -> Result<AttendanceRecord, DecodeFailure> {
        match headers.iter().find(|(name, _)| name == RECORD_KIND_HEADER) {
            None => Ok(AttendanceRecord::Sighting(
                EventCodec::<AttendanceEvent>::default().decode(key, payload, headers)?,
            )),
            Some((_, kind)) if kind.as_slice() == CORRECTION_KIND.as_bytes() => Ok(AttendanceRecord::Correction(
                EventCodec::<AttendanceCorrection>::default().decode(key, payload, headers)?,
            )),
            Some((_, kind)) => Err(DecodeFailure {
                kind: "invalid_header",
                reason: format!(
                    "header {RECORD_KIND_HEADER} is {:?}; this build knows only {CORRECTION_KIND:?} (or none, for a sighting)",
                    String::from_utf8_lossy(kind)
                ),
            }),
        }
    }

    fn keeps_payload(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{CORRECTION_SCHEMA_VERSION, CameraId, CorrectionKind, FaceBox, PersonId};

    fn headers(encoded: &Encoded) -> Vec<(String, Vec<u8>)> {
        encoded
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone().into_bytes()))
            .collect()
    }

    #[test]
    fn sightings_and_corrections_come_back_as_they_went() {
        let (person, camera) = (PersonId::parse("obama").unwrap(), CameraId::parse("door").unwrap());
        let at = "2026-11-22T08:00:00Z".parse().unwrap();
        let event = AttendanceEvent::new(
            person.clone(),
            camera.clone(),
            3,
            at,
            0.3,
            FaceBox { x: 0, y: 0, w: 9, h: 9 },
            "m",
        );
        let correction = AttendanceCorrection {
            schema_version: CORRECTION_SCHEMA_VERSION,
            correction_id: uuid::Uuid::from_u128(1),
            correction: CorrectionKind::Retraction,
            event_id: event.event_id,
            person_id: person,
            camera_id: camera,
            seen_at: at,
            actor: "api:staff".into(),
            reason: "a look-alike".into(),
            corrected_at: at,
        };
        for record in [
            AttendanceRecord::Sighting(event),
            AttendanceRecord::Correction(correction),
        ] {
            let encoded = AttendanceCodec.encode(&record);
            let back = AttendanceCodec
                .decode("obama", &encoded.payload, &headers(&encoded))
                .unwrap();
            assert_eq!(back, record);
        }
    }

    #[test]
    fn a_correction_without_its_header_or_an_unknown_kind_is_refused() {
        let payload = br#"{"schema_version":1,"correction":"retraction"}"#;
        let failure = AttendanceCodec.decode("k", payload, &[]).unwrap_err();
        assert_eq!(failure.kind, "invalid_json");
        let odd = vec![(RECORD_KIND_HEADER.to_owned(), b"undo".to_vec())];
        assert_eq!(
            AttendanceCodec.decode("k", payload, &odd).unwrap_err().kind,
            "invalid_header"
        );
    }
}
