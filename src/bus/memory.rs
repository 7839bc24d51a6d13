//! In-process topics over bounded channels: the embedded default's bus.
//!
//! A topic has partitions; a key always goes to the same partition, so one camera's frames stay
//! in order, as with Kafka. Unlike Kafka's hash, a new key takes the next partition in turn:
//! with a handful of cameras and workers a hash can put every camera on one worker. A full partition makes `send` wait: backpressure, not loss. When the
//! last producer is dropped, consumers drain what is left and then see the end of the stream.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::task::Poll;

use async_trait::async_trait;
use tokio::sync::mpsc;

use super::{BusError, Consumer, Position, Producer, Record};

/// Creates a topic with `partitions` partitions of `capacity` records each. Returns its producer
/// and one receiver per partition, to be handed to consumers.
pub fn memory_topic<T: Send + 'static>(
    partitions: usize,
    capacity: usize,
) -> (MemoryProducer<T>, Vec<mpsc::Receiver<Record<T>>>) {
    let partitions = partitions.max(1);
    let (senders, receivers): (Vec<_>, Vec<_>) = (0..partitions).map(|_| mpsc::channel(capacity.max(1))).unzip();
    let offsets = (0..partitions).map(|_| Mutex::new(0)).collect();
    (
        MemoryProducer {
            senders,
            offsets: Arc::new(offsets),
            assignments: Arc::new(Mutex::new(Assignments::default())),
        },
        receivers,
    )
}

/// Which partition each key went to: a key keeps its partition for the life of the topic.
#[derive(Debug, Default)]
struct Assignments {
    by_key: HashMap<String, usize>,
    next: usize,
}

impl Assignments {
    fn partition_for(&mut self, key: &str, partitions: usize) -> usize {
        if let Some(p) = self.by_key.get(key) {
            return *p;
        }
        let p = self.next % partitions;
        self.next += 1;
        self.by_key.insert(key.to_owned(), p);
        p
    }
}

pub struct MemoryProducer<T> {
    senders: Vec<mpsc::Sender<Record<T>>>,
    /// Each partition's next offset.
    offsets: Arc<Vec<Mutex<i64>>>,
    assignments: Arc<Mutex<Assignments>>,
}

impl<T> Clone for MemoryProducer<T> {
    fn clone(&self) -> Self {
        Self {
            senders: self.senders.clone(),
            offsets: Arc::clone(&self.offsets),
            assignments: Arc::clone(&self.assignments),
        }
    }
}

#[async_trait]
impl<T: Send + 'static> Producer<T> for MemoryProducer<T> {
    async fn send(&self, key: &str, value: T) -> Result<(), BusError> {
        let partition = self
            .assignments
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .partition_for(key, self.senders.len());
        let permit = self.senders[partition].reserve().await.map_err(|_| BusError::Closed)?;
        // The offset is taken and the record queued under one lock, so a partition delivers its
        // offsets in order. Taken apart, two producers could queue 6 before 5; a consumer reads
        // such a gap as a rewind and forgets its cameras' state (the cooldown among it).
        let mut next = self.offsets[partition]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let record = Record {
            key: key.to_owned(),
            value,
            position: Position {
                partition: partition as i32,
                offset: *next,
            },
            trace_parent: crate::telemetry::context::current_traceparent(),
            payload: None,
        };
        *next += 1;
        permit.send(record);
        Ok(())
    }
}

/// Reads one or more partitions of a memory topic.
pub struct MemoryConsumer<T> {
    receivers: Vec<mpsc::Receiver<Record<T>>>,
    /// Where polling starts next time, so no partition starves the others.
    start: usize,
    committed: Vec<Position>,
}

impl<T> MemoryConsumer<T> {
    pub fn new(receivers: Vec<mpsc::Receiver<Record<T>>>) -> Self {
        Self {
            receivers,
            start: 0,
            committed: Vec::new(),
        }
    }

    /// Positions committed so far (the in-process bus keeps nothing, but tests read this).
    pub fn committed(&self) -> &[Position] {
        &self.committed
    }
}

#[async_trait]
impl<T: Send + 'static> Consumer<T> for MemoryConsumer<T> {
    async fn next(&mut self) -> Option<Result<Record<T>, BusError>> {
        std::future::poll_fn(|cx| {
            let n = self.receivers.len();
            let mut open = false;
            for i in 0..n {
                let idx = (self.start + i) % n;
                match self.receivers[idx].poll_recv(cx) {
                    Poll::Ready(Some(record)) => {
                        self.start = (idx + 1) % n;
                        return Poll::Ready(Some(Ok(record)));
                    }
                    Poll::Ready(None) => {}
                    Poll::Pending => open = true,
                }
            }
            if open { Poll::Pending } else { Poll::Ready(None) }
        })
        .await
    }

    fn commit(&mut self, position: Position) -> Result<(), BusError> {
        match self.committed.iter_mut().find(|p| p.partition == position.partition) {
            Some(p) => p.offset = p.offset.max(position.offset),
            None => self.committed.push(position),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn same_key_same_partition_in_order_then_end() {
        let (producer, receivers) = memory_topic::<u32>(3, 8);
        let mut consumer = MemoryConsumer::new(receivers);
        for i in 0..5 {
            producer.send("cam-a", i).await.unwrap();
        }
        drop(producer);
        let mut seen = Vec::new();
        while let Some(r) = consumer.next().await {
            let r = r.unwrap();
            consumer.commit(r.position).unwrap();
            seen.push((r.value, r.position.offset));
        }
        assert_eq!(seen, (0..5).map(|i| (i, i64::from(i))).collect::<Vec<_>>());
        assert_eq!(consumer.committed().len(), 1);
    }

    #[test]
    fn new_keys_are_spread_and_keep_their_partition() {
        let mut a = Assignments::default();
        let first: Vec<usize> = ["cam-0", "cam-1", "cam-2", "cam-3"]
            .iter()
            .map(|k| a.partition_for(k, 2))
            .collect();
        assert_eq!(first, vec![0, 1, 0, 1]);
        assert_eq!(a.partition_for("cam-1", 2), 1);
    }

    #[tokio::test]
    async fn full_partition_applies_backpressure() {
        let (producer, mut receivers) = memory_topic::<u32>(1, 1);
        producer.send("k", 1).await.unwrap();
        let blocked = tokio::time::timeout(std::time::Duration::from_millis(50), producer.send("k", 2)).await;
        assert!(blocked.is_err(), "second send should wait for room");
        assert_eq!(receivers[0].recv().await.unwrap().value, 1);
    }
}
