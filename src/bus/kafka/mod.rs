//! The Kafka bus (rdkafka): producers resolve once the broker acknowledges, consumers store an
//! offset only when the stage says the effect of the message is durable.

mod attendance_codec;
mod bus;
mod codec;
mod config;
mod consumer;
mod producer;

pub use attendance_codec::{AttendanceCodec, CORRECTION_KIND, RECORD_KIND_HEADER};
pub use bus::{KafkaBus, client_config};
pub use codec::{Codec, DeadLetterCodec, DecodeFailure, Encoded, EventCodec, FrameCodec, JsonCodec};
pub use config::{KafkaConfig, TopicNames};
pub use consumer::{KafkaConsumer, message_headers};
pub use producer::KafkaProducer;
