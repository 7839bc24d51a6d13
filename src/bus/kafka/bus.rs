//! The ends of the Kafka topics that each stage uses, built from `[kafka]`.

use std::sync::Arc;

use rdkafka::ClientConfig;

use super::KafkaConfig;
use super::{AttendanceCodec, DeadLetterCodec, EventCodec, FrameCodec, JsonCodec, KafkaConsumer, KafkaProducer};
use crate::bus::{Bus, BusError, Consumer, DeadLetter, Producer};
use crate::domain::{AttendanceEvent, AttendanceRecord, Frame, UnknownFaceEvent};

#[derive(Clone)]
pub struct KafkaBus {
    client: ClientConfig,
    config: KafkaConfig,
}

/// The librdkafka settings every client of this deployment shares: brokers and `[kafka.options]`.
pub fn client_config(config: &KafkaConfig) -> ClientConfig {
    let mut client = ClientConfig::new();
    client.set("bootstrap.servers", &config.brokers);
    for (key, value) in &config.options {
        client.set(key, value);
    }
    client
}

impl KafkaBus {
    pub fn new(config: &KafkaConfig) -> Self {
        Self {
            client: client_config(config),
            config: config.clone(),
        }
    }

    /// A consumer of any topic with the given codec, for tools and tests that read a topic back.
    pub fn consumer<T: Send + 'static, C: super::Codec<T>>(
        &self,
        group: &str,
        topic: &str,
        codec: C,
    ) -> Result<KafkaConsumer<T, C>, BusError> {
        KafkaConsumer::new(&self.client, "reader", group, topic, codec)
    }
}

impl Bus for KafkaBus {
    fn frames_producer(&self) -> Result<Arc<dyn Producer<Frame>>, BusError> {
        Ok(Arc::new(KafkaProducer::new(
            &self.client,
            &self.config.topics.frames,
            FrameCodec,
        )?))
    }

    /// A member of the recognizer group.
    fn frames_consumer(&self) -> Result<Box<dyn Consumer<Frame>>, BusError> {
        let topics = &self.config.topics;
        Ok(Box::new(KafkaConsumer::new(
            &self.client,
            crate::domain::stage::RECOGNIZE,
            &self.config.recognize_group,
            &topics.frames,
            FrameCodec,
        )?))
    }

    fn attendance_producer(&self) -> Result<Arc<dyn Producer<AttendanceEvent>>, BusError> {
        Ok(Arc::new(KafkaProducer::new(
            &self.client,
            &self.config.topics.attendance,
            EventCodec::default(),
        )?))
    }

    fn corrections_producer(&self) -> Result<Arc<dyn Producer<AttendanceRecord>>, BusError> {
        Ok(Arc::new(KafkaProducer::new(
            &self.client,
            &self.config.topics.attendance,
            AttendanceCodec,
        )?))
    }

    /// A member of the projector group.
    fn attendance_consumer(&self) -> Result<Box<dyn Consumer<AttendanceRecord>>, BusError> {
        let (group, topic) = (&self.config.project_group, &self.config.topics.attendance);
        Ok(Box::new(KafkaConsumer::new(
            &self.client,
            crate::domain::stage::PROJECT,
            group,
            topic,
            AttendanceCodec,
        )?))
    }

    fn unknown_producer(&self) -> Result<Arc<dyn Producer<UnknownFaceEvent>>, BusError> {
        Ok(Arc::new(KafkaProducer::new(
            &self.client,
            &self.config.topics.unknown,
            JsonCodec::default(),
        )?))
    }

    /// A member of the review group.
    fn unknown_consumer(&self) -> Result<Box<dyn Consumer<UnknownFaceEvent>>, BusError> {
        let (group, topic) = (&self.config.review_group, &self.config.topics.unknown);
        Ok(Box::new(KafkaConsumer::new(
            &self.client,
            crate::domain::stage::REVIEW,
            group,
            topic,
            EventCodec::default(),
        )?))
    }

    fn frames_dead_letters(&self) -> Result<Arc<dyn Producer<DeadLetter>>, BusError> {
        let codec = DeadLetterCodec {
            source_topic: self.config.topics.frames.clone(),
        };
        Ok(Arc::new(KafkaProducer::new(
            &self.client,
            &self.config.topics.frames_dlq,
            codec,
        )?))
    }

    fn attendance_dead_letters(&self) -> Result<Arc<dyn Producer<DeadLetter>>, BusError> {
        let codec = DeadLetterCodec {
            source_topic: self.config.topics.attendance.clone(),
        };
        Ok(Arc::new(KafkaProducer::new(
            &self.client,
            &self.config.topics.attendance_dlq,
            codec,
        )?))
    }

    fn unknown_dead_letters(&self) -> Result<Arc<dyn Producer<DeadLetter>>, BusError> {
        let codec = DeadLetterCodec {
            source_topic: self.config.topics.unknown.clone(),
        };
        Ok(Arc::new(KafkaProducer::new(
            &self.client,
            &self.config.topics.unknown_dlq,
            codec,
        )?))
    }

    fn durable(&self) -> bool {
        true
    }
}
