//! The message bus between stages: producer and consumer traits, records with positions, and
//! dead letters. Stages are written against these traits; the transport is chosen by configuration.

mod config;
pub mod kafka;
mod memory;
mod memory_bus;

use std::sync::Arc;

use async_trait::async_trait;

use crate::domain::{AttendanceEvent, AttendanceRecord, Frame, UnknownFaceEvent};

pub use config::{BusConfig, BusKind};
pub use memory::{MemoryConsumer, MemoryProducer, memory_topic};
pub use memory_bus::MemoryBus;

/// Where a record sits in its topic, for committing and for dead-letter headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Position {
    pub partition: i32,
    pub offset: i64,
}

/// A message with its key and position.
#[derive(Debug, Clone)]
pub struct Record<T> {
    pub key: String,
    pub value: T,
    pub position: Position,
    /// The sender's W3C `traceparent`, when it was traced.
    pub trace_parent: Option<String>,
    /// The message's bytes as received, where the consumer keeps them (Kafka attendance
    /// events: a record the store refuses goes to the dead-letter topic as it came).
    pub payload: Option<Vec<u8>>,
}

/// A message that can never be processed: it goes to the dead-letter topic, and the stage moves on.
#[derive(Debug, Clone)]
pub struct PoisonMessage {
    pub key: String,
    pub payload: Vec<u8>,
    /// Short stable name of the error kind, e.g. `corrupt`, `invalid_json`.
    pub kind: &'static str,
    pub reason: String,
    pub position: Position,
}

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("poison message at partition {} offset {}: {}", .0.position.partition, .0.position.offset, .0.reason)]
    Poison(Box<PoisonMessage>),
    /// The broker is unreachable or overloaded: retry with backoff, never skip.
    #[error("transient bus error: {0}")]
    Transient(String),
    /// The topic has no more consumers or producers (in-process shutdown).
    #[error("bus closed")]
    Closed,
}

#[async_trait]
pub trait Producer<T: Send + 'static>: Send + Sync {
    /// Resolves once the message is durable as far as the transport goes (acknowledged).
    async fn send(&self, key: &str, value: T) -> Result<(), BusError>;
}

#[async_trait]
pub trait Consumer<T: Send + 'static>: Send {
    /// The next record; `None` when the stream has ended for good (in-process topics whose
    /// producers are all gone). Poison messages come back as `BusError::Poison`.
    async fn next(&mut self) -> Option<Result<Record<T>, BusError>>;

    /// Marks everything up to and including `position` as processed. Call it only after the
    /// effect of the record is durable: that is what makes delivery at-least-once.
    fn commit(&mut self, position: Position) -> Result<(), BusError>;
}

/// The topics between the stages, whatever carries them: every stage takes its ends from here.
pub trait Bus: Send + Sync {
    fn frames_producer(&self) -> Result<Arc<dyn Producer<Frame>>, BusError>;
    /// A recognizer worker's end of the frames topic (a member of the recognizer group).
    fn frames_consumer(&self) -> Result<Box<dyn Consumer<Frame>>, BusError>;
    /// The recognizers' end of the attendance topic: their events are its sightings.
    fn attendance_producer(&self) -> Result<Arc<dyn Producer<AttendanceEvent>>, BusError>;
    /// The attendance topic's end for corrections (retractions and additions), which go on the
    /// topic beside the sightings.
    fn corrections_producer(&self) -> Result<Arc<dyn Producer<AttendanceRecord>>, BusError>;
    /// A projector's end of the attendance topic (a member of the projector group).
    fn attendance_consumer(&self) -> Result<Box<dyn Consumer<AttendanceRecord>>, BusError>;
    fn unknown_producer(&self) -> Result<Arc<dyn Producer<UnknownFaceEvent>>, BusError>;
    /// A review projector's end of the unknown-face topic (a member of the review group).
    fn unknown_consumer(&self) -> Result<Box<dyn Consumer<UnknownFaceEvent>>, BusError>;
    fn frames_dead_letters(&self) -> Result<Arc<dyn Producer<DeadLetter>>, BusError>;
    fn attendance_dead_letters(&self) -> Result<Arc<dyn Producer<DeadLetter>>, BusError>;
    fn unknown_dead_letters(&self) -> Result<Arc<dyn Producer<DeadLetter>>, BusError>;
    /// Whether an acknowledged `send` survives a crash of this process (Kafka), or is only in
    /// its memory (the in-process bus).
    fn durable(&self) -> bool;
}

/// A message that failed for good, with the reason, as the dead-letter topics carry it.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    pub stage: String,
    pub kind: String,
    pub reason: String,
    pub key: String,
    pub payload: Vec<u8>,
    pub source: Position,
}

impl DeadLetter {
    /// Logs the letter and counts it in `rollcall_bus_dead_letters_total{stage, reason}`.
    pub fn emit(&self) {
        use crate::telemetry::events::{DeadLettered, Emit};
        DeadLettered {
            stage: &self.stage,
            kind: &self.kind,
            reason: &self.reason,
            key: &self.key,
        }
        .emit();
    }

    pub fn from_poison(stage: &'static str, poison: PoisonMessage) -> Self {
        DeadLetter {
            stage: stage.to_owned(),
            kind: poison.kind.to_owned(),
            reason: poison.reason,
            key: poison.key,
            payload: poison.payload,
            source: poison.position,
        }
    }
}
