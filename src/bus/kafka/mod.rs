//! The Kafka bus (rdkafka): producers resolve once the broker acknowledges, consumers store an
//! offset only when the stage says the effect of the message is durable.

mod bus;
mod codec;
mod config;
mod consumer;
mod producer;

pub use bus::{KafkaBus, client_config};
pub use codec::{Codec, DeadLetterCodec, DecodeFailure, Encoded, EventCodec, FrameCodec, JsonCodec};
pub use config::{KafkaConfig, TopicNames};
pub use consumer::KafkaConsumer;
pub use producer::KafkaProducer;
