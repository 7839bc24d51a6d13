//! The in-process bus of the embedded default: the stages' topics as bounded channels in one
//! process. Dead letters have no consumer there; they are collected and reported when the run
//! ends.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::{Bus, BusError, Consumer, DeadLetter, MemoryConsumer, MemoryProducer, Producer, Record, memory_topic};
use crate::domain::{AttendanceEvent, AttendanceRecord, Frame, UnknownFaceEvent};

/// A topic's producer and the receivers not handed out yet.
struct Topic<T> {
    producer: MemoryProducer<T>,
    receivers: Mutex<Vec<mpsc::Receiver<Record<T>>>>,
}

impl<T: Send + 'static> Topic<T> {
    fn new(partitions: usize, capacity: usize) -> Self {
        let (producer, receivers) = memory_topic(partitions, capacity);
        Self {
            producer,
            receivers: Mutex::new(receivers),
        }
    }

    /// One partition's consumer per call, for a worker each.
    fn next_consumer(&self) -> Result<MemoryConsumer<T>, BusError> {
        let receiver = self.receivers.lock().unwrap_or_else(|p| p.into_inner()).pop();
        receiver.map(|r| MemoryConsumer::new(vec![r])).ok_or(BusError::Closed)
    }

    /// Every partition not handed out yet, in one consumer.
    fn all_consumers(&self) -> MemoryConsumer<T> {
        MemoryConsumer::new(std::mem::take(
            &mut *self.receivers.lock().unwrap_or_else(|p| p.into_inner()),
        ))
    }
}

/// The in-process topics. A topic ends once its producers are all dropped: the bus itself
/// holds one of each, so drop it once the stages have taken their ends.
pub struct MemoryBus {
    frames: Topic<Frame>,
    attendance: Topic<AttendanceRecord>,
    unknown: Topic<UnknownFaceEvent>,
    dead_letters: Topic<DeadLetter>,
}

impl MemoryBus {
    /// `workers` frames partitions (one per recognizer worker), `capacity` records each.
    pub fn new(workers: usize, capacity: usize) -> Self {
        Self {
            frames: Topic::new(workers, capacity),
            attendance: Topic::new(1, capacity * 8),
            unknown: Topic::new(1, capacity * 8),
            dead_letters: Topic::new(1, capacity),
        }
    }

    /// Collects the dead letters, which nobody consumes in process: returned as
    /// (key, "kind: reason") once the stages are done.
    pub fn drain_unconsumed(&self) -> JoinHandle<Vec<(String, String)>> {
        let mut letters = self.dead_letters.all_consumers();
        tokio::spawn(async move {
            let mut collected = Vec::new();
            while let Some(Ok(record)) = letters.next().await {
                let l = record.value;
                collected.push((l.key, format!("{}: {}", l.kind, l.reason)));
            }
            collected
        })
    }
}

impl Bus for MemoryBus {
    fn frames_producer(&self) -> Result<Arc<dyn Producer<Frame>>, BusError> {
        Ok(Arc::new(self.frames.producer.clone()))
    }

    fn frames_consumer(&self) -> Result<Box<dyn Consumer<Frame>>, BusError> {
        Ok(Box::new(self.frames.next_consumer()?))
    }

    fn attendance_producer(&self) -> Result<Arc<dyn Producer<AttendanceEvent>>, BusError> {
        Ok(Arc::new(Sightings(self.attendance.producer.clone())))
    }

    fn corrections_producer(&self) -> Result<Arc<dyn Producer<AttendanceRecord>>, BusError> {
        Ok(Arc::new(self.attendance.producer.clone()))
    }

    fn attendance_consumer(&self) -> Result<Box<dyn Consumer<AttendanceRecord>>, BusError> {
        Ok(Box::new(self.attendance.next_consumer()?))
    }

    fn unknown_producer(&self) -> Result<Arc<dyn Producer<UnknownFaceEvent>>, BusError> {
        Ok(Arc::new(self.unknown.producer.clone()))
    }

    fn unknown_consumer(&self) -> Result<Box<dyn Consumer<UnknownFaceEvent>>, BusError> {
        Ok(Box::new(self.unknown.next_consumer()?))
    }

    fn frames_dead_letters(&self) -> Result<Arc<dyn Producer<DeadLetter>>, BusError> {
        Ok(Arc::new(self.dead_letters.producer.clone()))
    }

    fn attendance_dead_letters(&self) -> Result<Arc<dyn Producer<DeadLetter>>, BusError> {
        Ok(Arc::new(self.dead_letters.producer.clone()))
    }

    fn unknown_dead_letters(&self) -> Result<Arc<dyn Producer<DeadLetter>>, BusError> {
        Ok(Arc::new(self.dead_letters.producer.clone()))
    }

    fn durable(&self) -> bool {
        false
    }
}

/// The recognizers' end of the in-process attendance topic: each event goes in as a sighting.
struct Sightings(MemoryProducer<AttendanceRecord>);

#[async_trait]
impl Producer<AttendanceEvent> for Sightings {
    async fn send(&self, key: &str, value: AttendanceEvent) -> Result<(), BusError> {
        self.0.send(key, AttendanceRecord::Sighting(value)).await
    }
}
