//! A Kafka consumer-group member that stores an offset only when the stage commits it.

use std::marker::PhantomData;

use async_trait::async_trait;
use rdkafka::ClientConfig;
use rdkafka::consumer::{Consumer as _, StreamConsumer};
use rdkafka::message::{Headers, Message};

use super::codec::Codec;
use crate::bus::{BusError, Consumer, PoisonMessage, Position, Record};

pub struct KafkaConsumer<T, C> {
    consumer: StreamConsumer,
    topic: String,
    codec: C,
    _values: PhantomData<fn() -> T>,
}

impl<T, C: Codec<T>> KafkaConsumer<T, C> {
    /// Joins `group` on `topic`. Offsets are committed in the background, but only those the
    /// stage stored through `commit`: a crash replays everything whose effect was not durable.
    pub fn new(client: &ClientConfig, group: &str, topic: &str, codec: C) -> Result<Self, BusError> {
        let mut config = client.clone();
        config
            .set("group.id", group)
            .set("enable.auto.commit", "true")
            .set("enable.auto.offset.store", "false");
        // Overridable through [kafka.options]; these suit a pipeline that must not skip frames.
        for (key, value) in [
            ("auto.offset.reset", "earliest"),
            ("partition.assignment.strategy", "cooperative-sticky"),
        ] {
            if config.get(key).is_none() {
                config.set(key, value);
            }
        }
        let consumer: StreamConsumer = config
            .create()
            .map_err(|e| BusError::Transient(format!("creating a Kafka consumer: {e}")))?;
        consumer
            .subscribe(&[topic])
            .map_err(|e| BusError::Transient(format!("subscribing to {topic}: {e}")))?;
        Ok(Self {
            consumer,
            topic: topic.to_owned(),
            codec,
            _values: PhantomData,
        })
    }
}

impl<T, C> Drop for KafkaConsumer<T, C> {
    /// Commits what was stored before leaving the group, so a clean stop replays nothing.
    fn drop(&mut self) {
        // NoOffset (nothing stored since the last commit) is the usual answer and not an error.
        let _ = self.consumer.commit_consumer_state(rdkafka::consumer::CommitMode::Sync);
    }
}

#[async_trait]
impl<T: Send + 'static, C: Codec<T>> Consumer<T> for KafkaConsumer<T, C> {
    async fn next(&mut self) -> Option<Result<Record<T>, BusError>> {
        let message = match self.consumer.recv().await {
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
        let headers: Vec<(String, Vec<u8>)> = message
            .headers()
            .map(|h| {
                h.iter()
                    .map(|h| (h.key.to_owned(), h.value.unwrap_or_default().to_vec()))
                    .collect()
            })
            .unwrap_or_default();
        Some(match self.codec.decode(&key, payload, &headers) {
            Ok(value) => Ok(Record { key, value, position }),
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
        self.consumer
            .store_offset(&self.topic, position.partition, position.offset)
            .map_err(|e| BusError::Transient(format!("storing offset {} of {}: {e}", position.offset, self.topic)))
    }
}
