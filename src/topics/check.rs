//! `rollcall topics check`: reads the newest messages of each declared topic and checks them
//! against the declaration: the value against its JSON Schema, and the headers every message carries.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Headers, Message};
use rdkafka::{Offset, TopicPartitionList};

use super::TopicSpec;
use crate::bus::kafka::KafkaConfig;
use crate::bus::kafka::client_config;

/// Headers a declaration lists that a message may lack: the trace context is there only when
/// tracing is on.
const OPTIONAL_HEADERS: [&str; 1] = ["traceparent"];

/// The compiled value schema of a declaration, if it has one. Formats (uuid, date-time) are
/// checked, not just annotated.
pub fn value_validator(dir: &Path, spec: &TopicSpec) -> anyhow::Result<Option<jsonschema::Validator>> {
    let Some(file) = &spec.value_schema else {
        return Ok(None);
    };
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let schema: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .map_err(|e| anyhow::anyhow!("{} is not a valid JSON Schema: {e}", path.display()))?;
    Ok(Some(validator))
}

/// A message that does not match its topic's declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub partition: i32,
    pub offset: i64,
    pub reason: String,
}

/// The result of checking one topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicReport {
    pub topic: String,
    pub checked: usize,
    pub violations: Vec<Violation>,
}

impl TopicReport {
    pub fn is_valid(&self) -> bool {
        self.violations.is_empty()
    }
}

impl fmt::Display for TopicReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_valid() {
            return write!(f, "ok       {}: {} message(s) checked", self.topic, self.checked);
        }
        write!(
            f,
            "INVALID  {}: {} of {} message(s)",
            self.topic,
            self.violations.len(),
            self.checked
        )?;
        for v in &self.violations {
            write!(
                f,
                "\n         partition {} offset {}: {}",
                v.partition, v.offset, v.reason
            )?;
        }
        Ok(())
    }
}

/// What is wrong with one message, if anything.
fn violations_of(spec: &TopicSpec, schema: Option<&jsonschema::Validator>, message: &impl Message) -> Vec<String> {
    let mut reasons = Vec::new();
    let present: Vec<&str> = message
        .headers()
        .map(|h| h.iter().map(|h| h.key).collect())
        .unwrap_or_default();
    for name in &spec.headers {
        if !OPTIONAL_HEADERS.contains(&name.as_str()) && !present.contains(&name.as_str()) {
            reasons.push(format!("header {name} is missing"));
        }
    }
    if let Some(schema) = schema {
        match serde_json::from_slice::<serde_json::Value>(message.payload().unwrap_or_default()) {
            Err(e) => reasons.push(format!("value is not JSON: {e}")),
            Ok(value) => reasons.extend(schema.iter_errors(&value).map(|e| {
                let at = e.instance_path().to_string();
                format!("{}: {e}", if at.is_empty() { "/" } else { at.as_str() })
            })),
        }
    }
    reasons
}

/// Reads up to `sample` of the newest messages of `topic` (spread over its partitions) and
/// checks each against `spec`. Blocking: run it off the async reactor.
pub fn check_topic(
    kafka: &KafkaConfig,
    spec: &TopicSpec,
    topic: &str,
    schema: Option<&jsonschema::Validator>,
    sample: usize,
) -> anyhow::Result<TopicReport> {
    let timeout = Duration::from_secs(10);
    let mut client = client_config(kafka);
    // A group id is required to create a consumer; nothing is ever committed under it.
    client
        .set("group.id", "rollcall-topics-check")
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "true");
    let consumer: BaseConsumer = client.create().context("creating a Kafka consumer")?;
    let metadata = consumer
        .fetch_metadata(Some(topic), timeout)
        .with_context(|| format!("fetching metadata of {topic}"))?;
    let partitions: Vec<i32> = match metadata.topics().first() {
        Some(t) if t.error().is_none() && !t.partitions().is_empty() => t.partitions().iter().map(|p| p.id()).collect(),
        _ => bail!("topic {topic} does not exist (run `rollcall topics apply`)"),
    };
    let per_partition = (sample / partitions.len()).max(1) as i64;
    let mut assignment = TopicPartitionList::new();
    let mut ends: HashMap<i32, i64> = HashMap::new();
    for p in partitions {
        let (low, high) = consumer
            .fetch_watermarks(topic, p, timeout)
            .with_context(|| format!("reading offsets of {topic} partition {p}"))?;
        if high > low {
            let start = low.max(high - per_partition);
            assignment.add_partition_offset(topic, p, Offset::Offset(start))?;
            ends.insert(p, high);
        }
    }
    let mut report = TopicReport {
        topic: topic.to_owned(),
        checked: 0,
        violations: Vec::new(),
    };
    if ends.is_empty() {
        return Ok(report);
    }
    consumer.assign(&assignment)?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ends.is_empty() {
        if Instant::now() > deadline {
            bail!(
                "timed out reading {topic}: partitions {:?} did not deliver",
                ends.keys()
            );
        }
        match consumer.poll(Duration::from_millis(500)) {
            None => {}
            Some(Err(KafkaError::PartitionEOF(p))) => {
                ends.remove(&p);
            }
            Some(Err(e)) => return Err(e).with_context(|| format!("reading {topic}")),
            Some(Ok(message)) => {
                let (p, offset) = (message.partition(), message.offset());
                if ends.get(&p).is_none_or(|end| offset >= *end) {
                    continue;
                }
                report.checked += 1;
                let reasons = violations_of(spec, schema, &message);
                if !reasons.is_empty() {
                    report.violations.push(Violation {
                        partition: p,
                        offset,
                        reason: reasons.join("; "),
                    });
                }
                if offset + 1 >= ends[&p] {
                    ends.remove(&p);
                }
            }
        }
    }
    Ok(report)
}
