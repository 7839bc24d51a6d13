//! The projector's write on PostgreSQL: the batch's new events go in by binary `COPY` (many rows
//! a page, nothing parsed as text), in the transaction that folds their days. COPY has no
//! ON CONFLICT, so the events already stored are found first and left out; a concurrent writer
//! that stores one in between makes the COPY fail on the key, and the batch is written again by
//! the conflict-tolerant INSERT (`attendance::write_attendance`).

use std::collections::HashSet;

use uuid::Uuid;

use super::Store;
use super::attendance::{BatchOutcome, fold_new, kept_events};
use super::copy_binary::BinaryCopy;
use super::pg_transaction::PgTransaction;
use crate::domain::AttendanceEvent;

/// Rows per lookup and per COPY: a megabyte or two, whatever the batch size.
const ROWS_PER_PIECE: usize = 10_000;

const COPY_EVENTS: &str = "COPY attendance_events (event_id, person_id, camera_id, frame_seq, seen_at, \
     distance, similarity, box_x, box_y, box_w, box_h, model_id, schema_version, recorded_at) \
     FROM STDIN (FORMAT binary)";
const FIELDS: u16 = 14;

impl Store {
    pub(super) async fn write_attendance_copying(
        &self,
        events: &[&AttendanceEvent],
    ) -> Result<BatchOutcome, sea_orm::DbErr> {
        let txn = PgTransaction::begin(self.db.get_postgres_connection_pool()).await?;
        let kept = kept_events(&txn, events).await?;
        let stored = stored_ids(&txn, &kept.events).await?;
        let mut seen = HashSet::with_capacity(kept.events.len());
        // A batch can hold one event twice: its first copy alone is new.
        let new: Vec<&AttendanceEvent> = kept
            .events
            .iter()
            .copied()
            .filter(|e| !stored.contains(&e.event_id) && seen.insert(e.event_id))
            .collect();
        let recorded_at = super::now();
        // One COPY a piece: the buffers stay as small as a piece, whatever the batch size.
        for rows in new.chunks(ROWS_PER_PIECE) {
            txn.copy_in(COPY_EVENTS, encode(rows, &recorded_at)).await?;
        }
        let outcome = fold_new(&txn, events.len(), &kept, new).await?;
        txn.commit().await?;
        Ok(outcome)
    }
}

/// Which of `events` the store already holds.
async fn stored_ids(txn: &PgTransaction, events: &[&AttendanceEvent]) -> Result<HashSet<Uuid>, sea_orm::DbErr> {
    let mut stored = HashSet::new();
    for chunk in events.chunks(ROWS_PER_PIECE) {
        let ids: Vec<Uuid> = chunk.iter().map(|e| e.event_id).collect();
        // A join, not `= ANY(…)`: just after a large batch the statistics can still say the
        // table is empty, and a scan testing each row against the whole array then takes
        // seconds; the join is a hash join at worst and index probes once the table is big.
        let sql = "SELECT e.event_id FROM unnest($1::uuid[]) AS batch(id) \
                   JOIN attendance_events e ON e.event_id = batch.id";
        stored.extend(txn.select_ids(sql, &ids).await?);
    }
    Ok(stored)
}

/// The rows in the column order of `COPY_EVENTS`.
fn encode(rows: &[&AttendanceEvent], recorded_at: &chrono::DateTime<chrono::Utc>) -> Vec<u8> {
    let mut copy = BinaryCopy::new(rows.len() * 160);
    for e in rows {
        copy.row(FIELDS)
            .uuid(&e.event_id)
            .text(e.person_id.as_str())
            .text(e.camera_id.as_str())
            // Sequences are per camera and start at 0; i64 covers centuries of frames.
            .int8(e.frame_seq as i64)
            .timestamptz(&e.seen_at)
            .float4(e.distance)
            .float4(e.similarity)
            .int4(e.face_box.x)
            .int4(e.face_box.y)
            .int4(e.face_box.w)
            .int4(e.face_box.h)
            .text(e.model_id.as_str())
            .int2(e.schema_version as i16)
            .timestamptz(recorded_at);
    }
    copy.finish()
}
