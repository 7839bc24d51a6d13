//! What a projector stores: one kind of event, validated as it arrives and written by the store
//! in idempotent batches. Attendance events and unknown faces share the projector's batching,
//! retries, dead letters and offset commits through this.

use async_trait::async_trait;
use serde::Serialize;
use uuid::Uuid;

use crate::domain::stage::{PROJECT, REVIEW};
use crate::domain::{AttendanceRecord, UnknownFaceEvent, Validate};
use crate::store::{BatchOutcome, Store};

#[async_trait]
pub trait Projection: Send + Sync + 'static {
    type Event: Serialize + Validate + Send + Sync + 'static;
    /// The `projection` label of the projector's metrics.
    const NAME: &'static str;
    /// The stage its dead letters and logs are under.
    const STAGE: &'static str;

    /// The event's id in spans and dead-letter reasons.
    fn event_id(event: &Self::Event) -> Uuid;
    /// Writes a batch in one transaction; writing it again changes nothing.
    async fn write(&self, store: &Store, events: &[Self::Event]) -> Result<BatchOutcome, sea_orm::DbErr>;
}

/// The attendance topic into `attendance_events` and `attendance_days`: sightings, and the
/// corrections (retractions, additions) beside them.
pub struct Attendance;

#[async_trait]
impl Projection for Attendance {
    type Event = AttendanceRecord;
    const NAME: &'static str = "attendance";
    const STAGE: &'static str = PROJECT;

    fn event_id(record: &AttendanceRecord) -> Uuid {
        record.id()
    }

    async fn write(&self, store: &Store, records: &[AttendanceRecord]) -> Result<BatchOutcome, sea_orm::DbErr> {
        store.write_attendance_records(records).await
    }
}

/// Unknown faces into `unknown_faces`, each joining or starting a cluster.
pub struct UnknownFaces {
    /// `review.cluster_distance`.
    pub cluster_distance: f32,
}

#[async_trait]
impl Projection for UnknownFaces {
    type Event = UnknownFaceEvent;
    const NAME: &'static str = "unknown_faces";
    const STAGE: &'static str = REVIEW;

    fn event_id(event: &UnknownFaceEvent) -> Uuid {
        event.face_id()
    }

    async fn write(&self, store: &Store, events: &[UnknownFaceEvent]) -> Result<BatchOutcome, sea_orm::DbErr> {
        store.write_unknown_faces(events, self.cluster_distance).await
    }
}
