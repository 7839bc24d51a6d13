//! Topics as code: the declarations in `topics/`, the plan that brings a cluster in line with
//! them, and carrying it out through the Kafka admin API.

mod check;

pub use check::{TopicReport, ValueSchemas, Violation, check_topic, value_validator};

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use rdkafka::admin::{
    AdminClient, AdminOptions, AlterConfig, NewPartitions, NewTopic, ResourceSpecifier, TopicReplication,
};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use serde::Deserialize;

use crate::bus::kafka::client_config;
use crate::bus::kafka::{KafkaConfig, TopicNames};

/// One `topics/*.toml` file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicSpec {
    pub name: String,
    pub partitions: i32,
    pub replication_factor: i32,
    pub key: String,
    pub value: String,
    #[serde(default)]
    pub value_schema: Option<String>,
    /// The schemas of values sent under a `record-kind` header, by its value (the attendance
    /// topic's corrections); a value without the header has `value_schema`.
    #[serde(default)]
    pub kind_schemas: BTreeMap<String, String>,
    #[serde(default)]
    pub headers: Vec<String>,
    /// Topic-level settings (`cleanup.policy`, `retention.ms`, `max.message.bytes`, …).
    #[serde(default)]
    pub config: BTreeMap<String, String>,
}

/// Every declaration in `dir`, by name.
pub fn load_specs(dir: &Path) -> anyhow::Result<Vec<TopicSpec>> {
    let mut specs = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&path)?;
            let spec: TopicSpec = toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
            if spec.partitions < 1 || spec.replication_factor < 1 {
                bail!(
                    "{}: partitions and replication_factor must be at least 1",
                    path.display()
                );
            }
            for schema in spec.value_schema.iter().chain(spec.kind_schemas.values()) {
                if !dir.join(schema).is_file() {
                    bail!("{}: schema {schema} does not exist", path.display());
                }
            }
            specs.push(spec);
        }
    }
    specs.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(specs)
}

/// The name a declared topic has in this deployment: `[kafka.topics]` may rename the six (docs/contracts.md, section 1.1).
pub fn deployed_name(declared: &str, names: &TopicNames) -> String {
    let defaults = TopicNames::default();
    let pairs = [
        (&defaults.frames, &names.frames),
        (&defaults.attendance, &names.attendance),
        (&defaults.unknown, &names.unknown),
        (&defaults.frames_dlq, &names.frames_dlq),
        (&defaults.attendance_dlq, &names.attendance_dlq),
        (&defaults.unknown_dlq, &names.unknown_dlq),
    ];
    pairs
        .iter()
        .find(|(d, _)| *d == declared)
        .map(|(_, n)| (*n).clone())
        .unwrap_or_else(|| declared.to_owned())
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Create {
        name: String,
        spec: TopicSpec,
    },
    AddPartitions {
        name: String,
        from: i32,
        to: i32,
        spec: TopicSpec,
    },
    /// Exists with enough partitions; its settings are (re)applied, which is idempotent.
    UpdateConfig {
        name: String,
        spec: TopicSpec,
    },
    /// Kafka cannot take partitions away: an operator must decide.
    CannotShrink {
        name: String,
        existing: i32,
        declared: i32,
    },
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Create { name, spec } => {
                write!(
                    f,
                    "create          {name}: {} partitions, replication {}",
                    spec.partitions, spec.replication_factor
                )
            }
            Action::AddPartitions { name, from, to, .. } => write!(f, "add partitions  {name}: {from} -> {to}"),
            Action::UpdateConfig { name, spec } => {
                write!(f, "set config      {name}: {} setting(s)", spec.config.len())
            }
            Action::CannotShrink {
                name,
                existing,
                declared,
            } => {
                write!(
                    f,
                    "CANNOT SHRINK   {name}: has {existing} partitions, declared {declared}"
                )
            }
        }
    }
}

/// What to do so that the cluster (topic name → partition count) matches the declarations.
pub fn plan(specs: &[TopicSpec], names: &TopicNames, existing: &BTreeMap<String, i32>) -> Vec<Action> {
    specs
        .iter()
        .map(|spec| {
            let name = deployed_name(&spec.name, names);
            let spec = spec.clone();
            match existing.get(&name) {
                None => Action::Create { name, spec },
                Some(&have) if have < spec.partitions => Action::AddPartitions {
                    name,
                    from: have,
                    to: spec.partitions,
                    spec,
                },
                Some(&have) if have > spec.partitions => Action::CannotShrink {
                    name,
                    existing: have,
                    declared: spec.partitions,
                },
                Some(_) => Action::UpdateConfig { name, spec },
            }
        })
        .collect()
}

/// Topic name → partition count, from the cluster's metadata.
pub fn existing_topics(kafka: &KafkaConfig) -> anyhow::Result<BTreeMap<String, i32>> {
    let consumer: BaseConsumer = client_config(kafka).create().context("creating a Kafka client")?;
    let metadata = consumer
        .fetch_metadata(None, Duration::from_secs(10))
        .context("fetching Kafka metadata")?;
    Ok(metadata
        .topics()
        .iter()
        .map(|t| (t.name().to_owned(), t.partitions().len() as i32))
        .collect())
}

/// Carries out a plan. Refuses to start if any topic would have to shrink.
pub async fn apply(kafka: &KafkaConfig, actions: &[Action]) -> anyhow::Result<()> {
    if let Some(bad) = actions.iter().find(|a| matches!(a, Action::CannotShrink { .. })) {
        bail!("{bad}: Kafka cannot remove partitions; recreate the topic or change its declaration");
    }
    let admin: AdminClient<DefaultClientContext> =
        client_config(kafka).create().context("creating a Kafka admin client")?;
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    let mut creates = Vec::new();
    let mut grows = Vec::new();
    let mut alters = Vec::new();
    for action in actions {
        match action {
            Action::Create { name, spec } => {
                let mut topic = NewTopic::new(name, spec.partitions, TopicReplication::Fixed(spec.replication_factor));
                for (k, v) in &spec.config {
                    topic = topic.set(k, v);
                }
                creates.push(topic);
            }
            Action::AddPartitions { name, to, spec, .. } => {
                grows.push(NewPartitions::new(name, *to as usize));
                alters.push((name, spec));
            }
            Action::UpdateConfig { name, spec } => alters.push((name, spec)),
            Action::CannotShrink { .. } => unreachable!("refused above"),
        }
    }
    for result in admin
        .create_topics(&creates, &options)
        .await
        .context("creating topics")?
    {
        result.map_err(|(topic, code)| anyhow::anyhow!("creating {topic}: {code}"))?;
    }
    for result in admin
        .create_partitions(&grows, &options)
        .await
        .context("adding partitions")?
    {
        result.map_err(|(topic, code)| anyhow::anyhow!("adding partitions to {topic}: {code}"))?;
    }
    let configs: Vec<AlterConfig<'_>> = alters
        .iter()
        .filter(|(_, spec)| !spec.config.is_empty())
        .map(|(name, spec)| {
            spec.config
                .iter()
                .fold(AlterConfig::new(ResourceSpecifier::Topic(name)), |c, (k, v)| {
                    c.set(k, v)
                })
        })
        .collect();
    for result in admin
        .alter_configs(&configs, &options)
        .await
        .context("setting topic config")?
    {
        result.map_err(|(resource, code)| anyhow::anyhow!("setting config of {resource:?}: {code}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_declared_topics_parse() {
        let specs = load_specs(&Path::new(env!("CARGO_MANIFEST_DIR")).join("topics")).unwrap();
        let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "rollcall.attendance.dlq.v1",
                "rollcall.attendance.v1",
                "rollcall.frames.dlq.v1",
                "rollcall.frames.v1",
                "rollcall.unknown.dlq.v1",
                "rollcall.unknown.v1"
            ]
        );
        assert!(specs.iter().all(|s| s.config.contains_key("retention.ms")));
    }

    #[test]
    fn plan_creates_grows_and_refuses_to_shrink() {
        let spec = |name: &str, partitions| TopicSpec {
            name: name.into(),
            partitions,
            replication_factor: 1,
            key: "k".into(),
            value: "v".into(),
            value_schema: None,
            kind_schemas: BTreeMap::new(),
            headers: vec![],
            config: BTreeMap::new(),
        };
        let specs = vec![
            spec("rollcall.frames.v1", 12),
            spec("rollcall.unknown.v1", 6),
            spec("other", 3),
            spec("x", 1),
        ];
        let names = TopicNames {
            frames: "f.test".into(),
            ..TopicNames::default()
        };
        let existing = BTreeMap::from([
            ("f.test".to_string(), 4),
            ("rollcall.unknown.v1".to_string(), 6),
            ("x".to_string(), 2),
        ]);
        let actions = plan(&specs, &names, &existing);
        assert!(matches!(&actions[0], Action::AddPartitions { name, from: 4, to: 12, .. } if name == "f.test"));
        assert!(matches!(&actions[1], Action::UpdateConfig { name, .. } if name == "rollcall.unknown.v1"));
        assert!(matches!(&actions[2], Action::Create { name, .. } if name == "other"));
        assert!(matches!(
            &actions[3],
            Action::CannotShrink {
                existing: 2,
                declared: 1,
                ..
            }
        ));
    }
}
