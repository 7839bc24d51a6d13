//! Configuration: one serde tree with defaults in code, overridden by a TOML file and then by
//! `ROLLCALL__SECTION__KEY` environment variables.

use std::path::Path;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

pub use crate::api::config::{ApiConfig, ApiKeyConfig, ApiRole};
pub use crate::bus::kafka::{KafkaConfig, TopicNames};
pub use crate::bus::{BusConfig, BusKind};
pub use crate::cache::RedisConfig;
pub use crate::control::NatsConfig;
pub use crate::ingest::{CameraConfig, DropPolicy, IngestConfig, SourceConfig};
pub use crate::models::ModelsConfig;
pub use crate::operations::retention::RetentionConfig;
pub use crate::project::ProjectConfig;
pub use crate::recognize::{MatchingConfig, RecognizeConfig};
pub use crate::review::ReviewConfig;
pub use crate::runtime::RuntimeConfig;
pub use crate::shutdown::ShutdownConfig;
pub use crate::store::StoreConfig;
pub use crate::telemetry::{LogFormat, OtlpProtocol, TelemetryConfig};
pub use crate::vision::VisionConfig;

/// Where rollcall keeps its local state when nothing else is configured.
pub const DEFAULT_HOME: &str = ".rollcall";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub runtime: RuntimeConfig,
    pub models: ModelsConfig,
    pub vision: VisionConfig,
    pub matching: MatchingConfig,
    pub store: StoreConfig,
    pub bus: BusConfig,
    pub kafka: KafkaConfig,
    pub nats: NatsConfig,
    pub redis: RedisConfig,
    pub ingest: IngestConfig,
    pub recognize: RecognizeConfig,
    pub project: ProjectConfig,
    pub shutdown: ShutdownConfig,
    pub api: ApiConfig,
    pub telemetry: TelemetryConfig,
    pub retention: RetentionConfig,
    pub review: ReviewConfig,
    pub notifications: crate::notify::NotificationsConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self::with_home(Path::new(DEFAULT_HOME))
    }
}

impl Config {
    /// Defaults with every local path under `home`.
    pub fn with_home(home: &Path) -> Self {
        Self {
            runtime: RuntimeConfig {
                onnxruntime_lib: home.join("lib/libonnxruntime.so.1.31.1"),
                intra_threads: 1,
            },
            models: ModelsConfig {
                dir: home.join("models"),
                detector: "yunet_2023mar_dynamic".into(),
                recognizer: "dlib_resnet_v1".into(),
                custom: Vec::new(),
            },
            vision: VisionConfig::default(),
            matching: MatchingConfig::default(),
            store: StoreConfig {
                url: format!("sqlite://{}?mode=rwc", home.join("rollcall.db").display()),
                max_connections: 4,
            },
            bus: BusConfig::default(),
            kafka: KafkaConfig::default(),
            nats: NatsConfig::default(),
            redis: RedisConfig::default(),
            ingest: IngestConfig::with_home(home),
            recognize: RecognizeConfig::default(),
            project: ProjectConfig::default(),
            shutdown: ShutdownConfig::default(),
            api: ApiConfig::default(),
            telemetry: TelemetryConfig::default(),
            retention: RetentionConfig::default(),
            review: ReviewConfig::default(),
            notifications: Default::default(),
        }
    }

    /// Defaults, then the file (if any), then `ROLLCALL__…` variables from `env`.
    pub fn load(file: Option<&Path>, env: impl IntoIterator<Item = (String, String)>) -> anyhow::Result<Self> {
        let mut tree = toml::Value::try_from(Config::default()).context("serialising default configuration")?;
        if let Some(path) = file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading configuration file {}", path.display()))?;
            let overlay: toml::Value =
                toml::from_str(&text).with_context(|| format!("parsing configuration file {}", path.display()))?;
            merge(&mut tree, overlay);
        }
        for (key, value) in env {
            let Some(path) = key.strip_prefix("ROLLCALL__") else {
                continue;
            };
            let segments: Vec<String> = path.split("__").map(|s| s.to_ascii_lowercase()).collect();
            set_path(&mut tree, &segments, parse_env_value(&value)).with_context(|| format!("applying {key}"))?;
        }
        let config: Config = tree.try_into().context("invalid configuration")?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> anyhow::Result<()> {
        if !(self.matching.threshold > 0.0 && self.matching.threshold < 2.0) {
            bail!(
                "matching.threshold must be between 0 and 2 (L2 distance), got {}",
                self.matching.threshold
            );
        }
        if self.vision.detect_size < 32 || self.vision.detect_fallback_size < 32 {
            bail!("vision.detect_size and vision.detect_fallback_size must be at least 32");
        }
        if self.recognize.workers == 0 || self.project.batch_size == 0 || self.bus.capacity == 0 {
            bail!("recognize.workers, project.batch_size and bus.capacity must be at least 1");
        }
        if self.api.default_page_size == 0 || self.api.max_page_size < self.api.default_page_size {
            bail!("api.default_page_size must be at least 1 and at most api.max_page_size");
        }
        for (name, key) in &self.api.keys {
            if let Err(why) = key.digest() {
                bail!("api key {name} {why}");
            }
        }
        if self.api.header_timeout_secs == 0 || self.api.body_timeout_secs == 0 {
            bail!("api.header_timeout_secs and api.body_timeout_secs must be at least 1");
        }
        let models = &self.models;
        crate::models::resolve(&models.custom, &models.detector, crate::models::ModelRole::Detector)?;
        crate::models::resolve(&models.custom, &models.recognizer, crate::models::ModelRole::Recognizer)?;
        if self.vision.embed_batch == 0 {
            bail!("vision.embed_batch must be at least 1");
        }
        let prefix = &self.nats.subject_prefix;
        if prefix.is_empty()
            || prefix.starts_with('.')
            || prefix.ends_with('.')
            || prefix.contains(['*', '>', ' ', '\t', '\r', '\n'])
        {
            bail!(
                "nats.subject_prefix {prefix:?} must be a NATS subject: tokens separated by dots, no wildcards or spaces"
            );
        }
        if self.retention.unknown_days == 0 {
            bail!("retention.unknown_days must be at least 1: unknown faces are never kept for ever");
        }
        if !(self.review.cluster_distance > 0.0 && self.review.cluster_distance < 2.0) {
            bail!(
                "review.cluster_distance must be between 0 and 2 (L2 distance), got {}",
                self.review.cluster_distance
            );
        }
        Ok(())
    }
}

impl<'a> From<&'a Config> for crate::vision::EngineConfig<'a> {
    fn from(config: &'a Config) -> Self {
        Self {
            runtime: &config.runtime,
            models: &config.models,
            vision: &config.vision,
        }
    }
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Config::default().runtime
    }
}
impl Default for ModelsConfig {
    fn default() -> Self {
        Config::default().models
    }
}
impl Default for IngestConfig {
    fn default() -> Self {
        Config::default().ingest
    }
}

impl Default for StoreConfig {
    fn default() -> Self {
        Config::default().store
    }
}

fn merge(base: &mut toml::Value, overlay: toml::Value) {
    match (base, overlay) {
        (toml::Value::Table(base), toml::Value::Table(overlay)) => {
            for (key, value) in overlay {
                match base.get_mut(&key) {
                    Some(existing) => merge(existing, value),
                    None => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (base, overlay) => *base = overlay,
    }
}

fn set_path(tree: &mut toml::Value, segments: &[String], value: toml::Value) -> anyhow::Result<()> {
    let (last, parents) = segments.split_last().context("empty variable name")?;
    let mut node = tree;
    for segment in parents {
        node = node
            .as_table_mut()
            .context("not a section")?
            .entry(segment.clone())
            .or_insert_with(|| toml::Value::Table(Default::default()));
    }
    node.as_table_mut()
        .context("not a section")?
        .insert(last.clone(), value);
    Ok(())
}

/// Environment values are TOML scalars or arrays when they parse as such (`0.5`, `true`, `[1,2]`), else strings.
fn parse_env_value(raw: &str) -> toml::Value {
    toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_load_and_are_embedded() {
        let c = Config::load(None, []).unwrap();
        assert!(c.store.url.starts_with("sqlite://"));
        assert_eq!(c.bus.kind, BusKind::Memory);
    }

    #[test]
    fn file_then_env_override() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "[matching]\nthreshold = 0.4\n[recognize]\nworkers = 3\n").unwrap();
        let c = Config::load(
            Some(&file),
            env(&[("ROLLCALL__MATCHING__THRESHOLD", "0.5"), ("OTHER", "x")]),
        )
        .unwrap();
        assert_eq!(c.matching.threshold, 0.5);
        assert_eq!(c.recognize.workers, 3);
        let c = Config::load(
            None,
            env(&[
                ("ROLLCALL__KAFKA__OPTIONS__SESSION.TIMEOUT.MS", "6000"),
                ("ROLLCALL__KAFKA__OPTIONS__ENABLE.IDEMPOTENCE", "true"),
            ]),
        )
        .unwrap();
        assert_eq!(c.kafka.options["session.timeout.ms"], "6000");
        assert_eq!(c.kafka.options["enable.idempotence"], "true");
        let c = Config::load(None, env(&[("ROLLCALL__STORE__URL", "postgres://x/y")])).unwrap();
        assert_eq!(c.store.url, "postgres://x/y");
    }

    #[test]
    fn unknown_keys_and_bad_values_are_errors() {
        let err = Config::load(None, env(&[("ROLLCALL__MATCHING__TRESHOLD", "0.5")])).unwrap_err();
        assert!(format!("{err:#}").contains("treshold"), "{err:#}");
        let err = Config::load(None, env(&[("ROLLCALL__MATCHING__THRESHOLD", "7")])).unwrap_err();
        assert!(format!("{err:#}").contains("threshold"), "{err:#}");
    }

    #[test]
    fn cameras_from_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(
            &file,
            "[[ingest.cameras]]\nid = \"door\"\npath = \"/x\"\nrole = \"entry\"\n",
        )
        .unwrap();
        let c = Config::load(Some(&file), []).unwrap();
        assert_eq!(c.ingest.cameras[0].role, crate::domain::CameraRole::Entry);
        std::fs::write(&file, "[[ingest.cameras]]\nid = \"Door 1\"\npath = \"/x\"\n").unwrap();
        assert!(Config::load(Some(&file), []).is_err());
    }
}
