//! A Kafka producer whose `send` resolves when the broker has acknowledged the message.

use std::marker::PhantomData;
use std::time::Duration;

use async_trait::async_trait;
use rdkafka::ClientConfig;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};

use super::codec::Codec;
use crate::bus::{BusError, Producer};
use crate::telemetry::context::{TRACEPARENT, current_traceparent};

pub struct KafkaProducer<T, C> {
    producer: FutureProducer,
    topic: String,
    codec: C,
    queue_timeout: Duration,
    _values: PhantomData<fn(T)>,
}

impl<T, C: Codec<T>> KafkaProducer<T, C> {
    /// `client` carries the bootstrap servers and any librdkafka options; idempotence and
    /// `acks=all` are set here because the delivery guarantees depend on them.
    pub fn new(client: &ClientConfig, topic: &str, codec: C) -> Result<Self, BusError> {
        let mut config = client.clone();
        config.set("enable.idempotence", "true").set("acks", "all");
        let producer: FutureProducer = config
            .create()
            .map_err(|e| BusError::Transient(format!("creating a Kafka producer: {e}")))?;
        Ok(Self {
            producer,
            topic: topic.to_owned(),
            codec,
            queue_timeout: Duration::from_secs(30),
            _values: PhantomData,
        })
    }
}

#[async_trait]
impl<T: Send + Sync + 'static, C: Codec<T>> Producer<T> for KafkaProducer<T, C> {
    async fn send(&self, key: &str, value: T) -> Result<(), BusError> {
        let mut encoded = self.codec.encode(&value);
        if let Some(trace_parent) = current_traceparent() {
            encoded.headers.push((TRACEPARENT.to_owned(), trace_parent));
        }
        let mut headers = OwnedHeaders::new_with_capacity(encoded.headers.len());
        for (name, value) in &encoded.headers {
            headers = headers.insert(Header {
                key: name,
                value: Some(value.as_bytes()),
            });
        }
        let record = FutureRecord::to(&self.topic)
            .key(key)
            .payload(&encoded.payload)
            .headers(headers);
        self.producer
            .send(record, self.queue_timeout)
            .await
            .map(|_| ())
            .map_err(|(e, _)| BusError::Transient(format!("producing to {}: {e}", self.topic)))
    }
}
