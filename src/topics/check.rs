//! `rollcall topics check`: reads the newest messages of each declared topic and checks them
//! against the declaration: the value against its JSON Schema, and the headers every message carries.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use super::TopicSpec;
use crate::bus::kafka::KafkaConfig;
use crate::bus::kafka::client_config;

/// Headers a declaration lists that a message may lack: the trace context is there only when
/// tracing is on; a record kind only on records of another kind than the plain value.
const OPTIONAL_HEADERS: [&str; 2] = ["traceparent", RECORD_KIND];

/// The header that says which of `kind_schemas` a value has.
const RECORD_KIND: &str = "record-kind";

/// The compiled schemas of a declaration: of plain values, and of each record kind.
pub struct ValueSchemas {
    pub plain: Option<jsonschema::Validator>,
    pub by_kind: HashMap<String, jsonschema::Validator>,
}

impl ValueSchemas {
    /// The schema of a value with the given `record-kind` header (none: a plain value).
    pub fn for_kind(&self, kind: Option<&str>) -> Result<Option<&jsonschema::Validator>, String> {
        match kind {
            None => Ok(self.plain.as_ref()),
            Some(kind) => self
                .by_kind
                .get(kind)
                .map(Some)
                .ok_or_else(|| format!("header {RECORD_KIND} is {kind:?}, which the declaration does not list")),
        }
    }
}

/// The compiled value schema of a declaration, if it has one. Formats (uuid, date-time) are
/// checked, not just annotated.
pub fn value_validator(dir: &Path, spec: &TopicSpec) -> anyhow::Result<ValueSchemas> {
    let plain = spec
        .value_schema
        .as_deref()
        .map(|file| compile(dir, file))
        .transpose()?;
    let mut by_kind = HashMap::new();
    for (kind, file) in &spec.kind_schemas {
        by_kind.insert(kind.clone(), compile(dir, file)?);
    }
    Ok(ValueSchemas { plain, by_kind })
}

fn compile(dir: &Path, file: &str) -> anyhow::Result<jsonschema::Validator> {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let schema: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .map_err(|e| anyhow::anyhow!("{} is not a valid JSON Schema: {e}", path.display()))?;
    Ok(validator)
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
fn violations_of(spec: &TopicSpec, schemas: &ValueSchemas, message: &impl Message) -> Vec<String> {
    let mut reasons = Vec::new();
    let headers = crate::bus::kafka::message_headers(message);
    for name in &spec.headers {
        if !OPTIONAL_HEADERS.contains(&name.as_str()) && !headers.iter().any(|(k, _)| k == name) {
            reasons.push(format!("header {name} is missing"));
        }
    }
    let kind = headers
        .iter()
        .find(|(k, _)| k == RECORD_KIND)
        .map(|(_, v)| String::from_utf8_lossy(v).into_owned());
    let schema = match schemas.for_kind(kind.as_deref()) {
        Ok(schema) => schema,
        Err(reason) => {
            reasons.push(reason);
            None
        }
    };
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
    schemas: &ValueSchemas,
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
                let reasons = violations_of(spec, schemas, &message);
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
