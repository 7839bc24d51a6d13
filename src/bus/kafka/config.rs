//! `[kafka]`: brokers, topic names, consumer groups and librdkafka options.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KafkaConfig {
    /// `bootstrap.servers`.
    pub brokers: String,
    pub topics: TopicNames,
    /// Consumer group of the recognizer workers.
    pub recognize_group: String,
    /// Consumer group of the projectors.
    pub project_group: String,
    /// Consumer group of the review projectors (unknown faces kept for review).
    pub review_group: String,
    /// Any librdkafka property, given to every client (e.g. `"security.protocol" = "ssl"`).
    /// Numbers and booleans are taken as written (`ROLLCALL__KAFKA__OPTIONS__LINGER.MS=5` works).
    #[serde(deserialize_with = "scalars_as_strings")]
    pub options: std::collections::BTreeMap<String, String>,
}

/// Topic names (docs/contracts.md). Tests give each run its own.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TopicNames {
    pub frames: String,
    pub attendance: String,
    pub unknown: String,
    pub frames_dlq: String,
    pub attendance_dlq: String,
    pub unknown_dlq: String,
}

impl Default for KafkaConfig {
    fn default() -> Self {
        Self {
            brokers: "127.0.0.1:9092".into(),
            topics: TopicNames::default(),
            recognize_group: "rollcall-recognize".into(),
            project_group: "rollcall-project".into(),
            review_group: "rollcall-review".into(),
            options: Default::default(),
        }
    }
}

impl Default for TopicNames {
    fn default() -> Self {
        Self {
            frames: "rollcall.frames.v1".into(),
            attendance: "rollcall.attendance.v1".into(),
            unknown: "rollcall.unknown.v1".into(),
            frames_dlq: "rollcall.frames.dlq.v1".into(),
            attendance_dlq: "rollcall.attendance.dlq.v1".into(),
            unknown_dlq: "rollcall.unknown.dlq.v1".into(),
        }
    }
}

/// librdkafka takes every property as a string; accept numbers and booleans as their text.
fn scalars_as_strings<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<std::collections::BTreeMap<String, String>, D::Error> {
    use serde::de::Error;
    let raw = std::collections::BTreeMap::<String, toml::Value>::deserialize(deserializer)?;
    raw.into_iter()
        .map(|(key, value)| match value {
            toml::Value::String(s) => Ok((key, s)),
            toml::Value::Integer(i) => Ok((key, i.to_string())),
            toml::Value::Float(f) => Ok((key, f.to_string())),
            toml::Value::Boolean(b) => Ok((key, b.to_string())),
            _ => Err(D::Error::custom(format!(
                "kafka.options.{key} must be a string, a number or a boolean"
            ))),
        })
        .collect()
}
