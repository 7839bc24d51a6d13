//! A Kafka consumer-group member that stores an offset only when the stage commits it.

use std::collections::HashSet;
use std::marker::PhantomData;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use rdkafka::ClientConfig;
use rdkafka::client::ClientContext;
use rdkafka::consumer::{Consumer as _, ConsumerContext, StreamConsumer};
use rdkafka::message::{Headers, Message};
use rdkafka::statistics::Statistics;

use super::codec::Codec;
use crate::bus::{BusError, Consumer, PoisonMessage, Position, Record};
use crate::telemetry::context::TRACEPARENT;

/// Turns librdkafka's periodic statistics into the consumer-lag gauge of each assigned partition.
pub struct LagReporter {
    stage: String,
    /// Partitions reported last time: a partition handed to another member stops being reported here.
    reported: Mutex<HashSet<(String, i32)>>,
}

impl ClientContext for LagReporter {
    fn stats(&self, statistics: Statistics) {
        let lag = &crate::metrics::metrics().bus_consumer_lag;
        let mut current = HashSet::new();
        for (topic, stats) in &statistics.topics {
            for (partition, p) in &stats.partitions {
                // -1 is librdkafka's internal partition; a negative lag means "not known yet".
                if *partition < 0 || p.consumer_lag < 0 || p.fetch_state == "none" {
                    continue;
                }
                lag.with_label_values(&[self.stage.as_str(), topic, &partition.to_string()])
                    .set(p.consumer_lag);
                current.insert((topic.clone(), *partition));
            }
        }
        let mut reported = self.reported.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        for (topic, partition) in reported.difference(&current) {
            let _ = lag.remove_label_values(&[self.stage.as_str(), topic, &partition.to_string()]);
        }
        *reported = current;
    }
}

impl ConsumerContext for LagReporter {}

/// How long a stopping stage waits for its consumer to commit and leave the group.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

pub struct KafkaConsumer<T, C> {
    /// Always present; taken only by `drop`, which hands it to a closing thread.
    consumer: Option<StreamConsumer<LagReporter>>,
    topic: String,
    codec: C,
    _values: PhantomData<fn() -> T>,
}

impl<T, C: Codec<T>> KafkaConsumer<T, C> {
    /// Joins `group` on `topic`. Offsets are committed in the background, but only those the
    /// stage stored through `commit`: a crash replays everything whose effect was not durable.
    /// `stage` labels the consumer-lag metric.
    pub fn new(client: &ClientConfig, stage: &str, group: &str, topic: &str, codec: C) -> Result<Self, BusError> {
        let mut config = client.clone();
        config
            .set("group.id", group)
            .set("enable.auto.commit", "true")
            .set("enable.auto.offset.store", "false");
        // Overridable through [kafka.options]; these suit a pipeline that must not skip frames.
        for (key, value) in [
            ("auto.offset.reset", "earliest"),
            ("partition.assignment.strategy", "cooperative-sticky"),
            // How often the lag gauge is refreshed.
            ("statistics.interval.ms", "5000"),
        ] {
            if config.get(key).is_none() {
                config.set(key, value);
            }
        }
        let reporter = LagReporter {
            stage: stage.to_owned(),
            reported: Mutex::new(HashSet::new()),
        };
        let consumer: StreamConsumer<LagReporter> = config
            .create_with_context(reporter)
            .map_err(|e| BusError::Transient(format!("creating a Kafka consumer: {e}")))?;
        consumer
            .subscribe(&[topic])
            .map_err(|e| BusError::Transient(format!("subscribing to {topic}: {e}")))?;
        Ok(Self {
            consumer: Some(consumer),
            topic: topic.to_owned(),
            codec,
            _values: PhantomData,
        })
    }
}

impl<T, C> KafkaConsumer<T, C> {
    fn consumer(&self) -> &StreamConsumer<LagReporter> {
        self.consumer.as_ref().expect("the consumer is only taken when dropped")
    }

    /// Whether `partition` of the topic is assigned to this member now.
    fn owns(&self, partition: i32) -> bool {
        self.consumer()
            .assignment()
            .is_ok_and(|assigned| assigned.find_partition(&self.topic, partition).is_some())
    }
}

impl<T, C> Drop for KafkaConsumer<T, C> {
    /// Commits what was stored, then leaves the group, so a clean stop replays nothing. Both
    /// wait for the group coordinator, and librdkafka's close waits for it without end: with
    /// the brokers gone a stopping stage would never exit. So they run on a thread of their own,
    /// given up after `CLOSE_TIMEOUT`; the group then drops the member after its session
    /// timeout, and what was not committed is read again by the next member.
    fn drop(&mut self) {
        let Some(consumer) = self.consumer.take() else {
            return;
        };
        let (closed, wait) = std::sync::mpsc::channel();
        let closing = std::thread::Builder::new().name("kafka-close".into()).spawn(move || {
            // NoOffset (nothing stored since the last commit) is the usual answer, not an error.
            let _ = consumer.commit_consumer_state(rdkafka::consumer::CommitMode::Sync);
            drop(consumer);
            let _ = closed.send(());
        });
        if let Err(e) = closing {
            // The consumer went down with the closure: it was closed on this thread instead.
            tracing::warn!(topic = %self.topic, error = %e, "no thread for closing the Kafka consumer");
            return;
        }
        if wait.recv_timeout(CLOSE_TIMEOUT).is_err() {
            tracing::warn!(
                topic = %self.topic,
                timeout_secs = CLOSE_TIMEOUT.as_secs(),
                "the Kafka consumer did not leave its group in time (brokers unreachable?): stopping without it"
            );
        }
    }
}

#[async_trait]
impl<T: Send + 'static, C: Codec<T>> Consumer<T> for KafkaConsumer<T, C> {
    async fn next(&mut self) -> Option<Result<Record<T>, BusError>> {
        let message = match self.consumer().recv().await {
            Ok(message) => message,
            Err(e) => return Some(Err(BusError::Transient(format!("consuming {}: {e}", self.topic)))),
        };
        let position = Position {
            partition: message.partition(),
            offset: message.offset(),
        };
        let key = message
            .key()
            .map(|k| String::from_utf8_lossy(k).into_owned())
            .unwrap_or_default();
        let payload = message.payload().unwrap_or_default();
        let headers = message_headers(&message);
        let trace_parent = headers
            .iter()
            .find(|(name, _)| name == TRACEPARENT)
            .and_then(|(_, value)| String::from_utf8(value.clone()).ok());
        Some(match self.codec.decode(&key, payload, &headers) {
            Ok(value) => Ok(Record {
                key,
                value,
                position,
                trace_parent,
                payload: self.codec.keeps_payload().then(|| payload.to_vec()),
            }),
            Err(failure) => Err(BusError::Poison(Box::new(PoisonMessage {
                key,
                payload: payload.to_vec(),
                kind: failure.kind,
                reason: failure.reason,
                position,
            }))),
        })
    }

    fn commit(&mut self, position: Position) -> Result<(), BusError> {
        match self
            .consumer()
            .store_offset(&self.topic, position.partition, position.offset)
        {
            Ok(()) => Ok(()),
            // A rebalance handed the partition to another member while this record was in
            // flight: that member reads it again from the last committed offset, and the work's
            // effects are idempotent (deterministic ids), so giving it up loses nothing.
            Err(e) if !self.owns(position.partition) => {
                tracing::debug!(
                    topic = %self.topic,
                    partition = position.partition,
                    offset = position.offset,
                    error = %e,
                    "offset not stored: the partition was reassigned; its new owner redoes the work"
                );
                Ok(())
            }
            Err(e) => Err(BusError::Transient(format!(
                "storing offset {} of {}: {e}",
                position.offset, self.topic
            ))),
        }
    }
}

/// A message's headers as the codecs take them (name, bytes).
pub fn message_headers(message: &impl Message) -> Vec<(String, Vec<u8>)> {
    message
        .headers()
        .map(|h| {
            h.iter()
                .map(|h| (h.key.to_owned(), h.value.unwrap_or_default().to_vec()))
                .collect()
        })
        .unwrap_or_default()
}
