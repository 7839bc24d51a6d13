//! PostgreSQL's binary `COPY` format, for the few column types the projector writes: the
//! server reads it without parsing text, and COPY fills pages many rows at a time.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// "PGCOPY\n\xff\r\n\0", then no flags and no header extension.
const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
/// PostgreSQL counts timestamps in microseconds from 2000-01-01 00:00 UTC.
const POSTGRES_EPOCH_UNIX_MICROS: i64 = 946_684_800_000_000;

/// The input of a binary COPY, written row by row.
pub(super) struct BinaryCopy {
    bytes: Vec<u8>,
}

impl BinaryCopy {
    pub(super) fn new(capacity: usize) -> Self {
        let mut bytes = Vec::with_capacity(capacity + HEADER.len() + 2);
        bytes.extend_from_slice(HEADER);
        Self { bytes }
    }

    pub(super) fn row(&mut self, fields: u16) -> &mut Self {
        self.bytes.extend_from_slice(&fields.to_be_bytes());
        self
    }

    fn field(&mut self, value: &[u8]) -> &mut Self {
        // Field lengths are i32; a field here is at most a short text.
        self.bytes.extend_from_slice(&(value.len() as i32).to_be_bytes());
        self.bytes.extend_from_slice(value);
        self
    }

    pub(super) fn uuid(&mut self, value: &Uuid) -> &mut Self {
        self.field(value.as_bytes())
    }

    /// `text` and `varchar` share the binary form: the UTF-8 bytes.
    pub(super) fn text(&mut self, value: &str) -> &mut Self {
        self.field(value.as_bytes())
    }

    pub(super) fn int8(&mut self, value: i64) -> &mut Self {
        self.field(&value.to_be_bytes())
    }

    pub(super) fn int4(&mut self, value: i32) -> &mut Self {
        self.field(&value.to_be_bytes())
    }

    pub(super) fn int2(&mut self, value: i16) -> &mut Self {
        self.field(&value.to_be_bytes())
    }

    pub(super) fn float4(&mut self, value: f32) -> &mut Self {
        self.field(&value.to_be_bytes())
    }

    /// Whole microseconds, truncated, as PostgreSQL keeps them (the text path does the same).
    pub(super) fn timestamptz(&mut self, value: &DateTime<Utc>) -> &mut Self {
        self.int8(value.timestamp_micros() - POSTGRES_EPOCH_UNIX_MICROS)
    }

    /// The finished input, with its trailer.
    pub(super) fn finish(mut self) -> Vec<u8> {
        self.bytes.extend_from_slice(&(-1i16).to_be_bytes());
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_is_its_field_count_then_length_prefixed_big_endian_fields() {
        let at: DateTime<Utc> = "2000-01-01T00:00:01.000002999Z".parse().unwrap();
        let mut copy = BinaryCopy::new(64);
        copy.row(3).text("ab").int2(-2).timestamptz(&at).row(1).int4(7);
        let bytes = copy.finish();
        assert_eq!(&bytes[..11], b"PGCOPY\n\xff\r\n\0");
        let body = &bytes[HEADER.len()..];
        let expected: Vec<u8> = [
            &[0, 3][..],
            &[0, 0, 0, 2, b'a', b'b'],
            &[0, 0, 0, 2, 0xff, 0xfe],
            &[0, 0, 0, 8],
            &1_000_002i64.to_be_bytes(),
            &[0, 1, 0, 0, 0, 4, 0, 0, 0, 7],
            &[0xff, 0xff],
        ]
        .concat();
        assert_eq!(body, expected.as_slice());
    }
}
