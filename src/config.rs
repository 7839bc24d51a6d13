//! Configuration: one serde tree with defaults in code, overridden by a TOML file and then by
//! `ROLLCALL__SECTION__KEY` environment variables.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

pub use crate::ingest::{CameraConfig, DropPolicy, IngestConfig, SourceConfig};
pub use crate::project::ProjectConfig;
pub use crate::recognize::{MatchingConfig, RecognizeConfig};

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
}

/// What `rollcall retention` deletes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    /// Attendance events and days older than this many days are deleted; 0 keeps them forever.
    pub attendance_days: u32,
    /// Cooldown-ledger entries older than this many hours are deleted.
    pub cooldown_hours: u32,
    /// Rows per transaction.
    pub batch: u64,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self {
            attendance_days: 0,
            cooldown_hours: 24,
            batch: 1000,
        }
    }
}

/// Logs, the metrics endpoint of stage processes, and trace export.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelemetryConfig {
    /// Address where `ingest`, `recognize`, `project` and `run` serve `/metrics` and `/healthz`
    /// (`serve` has both on its API address). Off when unset.
    pub metrics_listen: Option<String>,
    /// `text` (human-readable lines) or `json` (one object per line, for log collectors).
    pub log_format: LogFormat,
    /// OTLP/HTTP collector base address, e.g. `http://collector:4318`; spans go to
    /// `{endpoint}/v1/traces`. No spans are exported (and no trace context is sent) when unset.
    pub otlp_endpoint: Option<String>,
    /// `http/protobuf` or `http/json`.
    pub otlp_protocol: OtlpProtocol,
    /// The `service.name` of exported spans; `rollcall-{command}` when unset.
    pub service_name: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum OtlpProtocol {
    #[default]
    #[serde(rename = "http/protobuf")]
    HttpProtobuf,
    #[serde(rename = "http/json")]
    HttpJson,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RuntimeConfig {
    /// Path of `libonnxruntime.so.1.31.1`, installed by `scripts/setup`.
    pub onnxruntime_lib: PathBuf,
    /// Threads per ONNX Runtime session; workers run in parallel, so one each keeps cores busy without contention.
    pub intra_threads: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelsConfig {
    pub dir: PathBuf,
    /// Manifest name of the detector model.
    pub detector: String,
    /// Name of the recognizer model: a built-in one or one of `custom`.
    pub recognizer: String,
    /// A site's own models, each with its file's sha256 and, for a recognizer, its model card.
    pub custom: Vec<crate::models::ModelSpec>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VisionConfig {
    /// Images with more pixels than this are rejected before decoding (decompression bombs).
    pub max_pixels: u64,
    /// Long side, in pixels, of the image the detector sees.
    pub detect_size: u32,
    /// When nothing is found at `detect_size`, look again at this size: YuNet misses faces
    /// larger than ~300 px at input scale, which close-up photos have.
    pub detect_fallback_size: u32,
    pub score_threshold: f32,
    pub nms_iou: f32,
    /// Faces smaller than this (box height, source pixels) are not used for enrolment.
    pub min_enrol_face_px: u32,
    /// Detections scoring below this do not count as faces in an enrolment photo. Higher than
    /// `score_threshold`: YuNet scores faces in paintings and patterns at 0.6–0.75, and an
    /// enrolment photo must be unambiguous.
    pub min_enrol_score: f32,
    /// Faces smaller than this are ignored during recognition.
    pub min_face_px: u32,
    pub embed_batch: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// A sea-orm database URL: `sqlite://…?mode=rwc` (embedded default) or `postgres://…`.
    pub url: String,
    pub max_connections: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BusKind {
    /// In-process bounded channels: the embedded default.
    Memory,
    /// Kafka topics and consumer groups (`[kafka]`): stages in separate processes.
    Kafka,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BusConfig {
    pub kind: BusKind,
    /// Capacity of each in-process partition; a full partition makes the producer wait.
    pub capacity: usize,
}

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
    /// Any librdkafka property, given to every client (e.g. `"security.protocol" = "ssl"`).
    /// Numbers and booleans are taken as written (`ROLLCALL__KAFKA__OPTIONS__LINGER.MS=5` works).
    #[serde(deserialize_with = "scalars_as_strings")]
    pub options: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NatsConfig {
    /// `nats://host:4222`. Unset: no gallery broadcasts and no live events (the embedded default).
    pub url: Option<String>,
    /// Recognizers also reload the gallery this often, in case a change message was missed.
    pub gallery_reload_secs: u64,
}

impl Default for NatsConfig {
    fn default() -> Self {
        Self {
            url: None,
            gallery_reload_secs: 60,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RedisConfig {
    /// `redis://host:6379`. Unset: no read cache, nothing to invalidate (the embedded default).
    pub url: Option<String>,
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
}

impl Default for KafkaConfig {
    fn default() -> Self {
        Self {
            brokers: "127.0.0.1:9092".into(),
            topics: TopicNames::default(),
            recognize_group: "rollcall-recognize".into(),
            project_group: "rollcall-project".into(),
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
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ShutdownConfig {
    /// How long a stage may take to drain after the first Ctrl-C / SIGTERM.
    pub drain_timeout_secs: u64,
}

/// `rollcall serve`: the HTTP API.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    /// Address to listen on.
    pub listen: String,
    /// API keys by name (the name is what the audit log records).
    pub keys: std::collections::BTreeMap<String, ApiKeyConfig>,
    /// Largest request body; enrolment uploads are the big ones.
    pub max_body_bytes: usize,
    /// Largest single photo in an enrolment upload.
    pub max_photo_bytes: usize,
    /// Requests per minute per key (a token bucket with a burst of a tenth of that, at least 5).
    pub rate_limit_per_minute: u32,
    /// Whether erasing a person also deletes their attendance (else it is kept, unlinked from any template).
    pub erase_attendance: bool,
    /// How long a cached read lives in Redis; generations keep it correct, this only bounds memory.
    pub cache_ttl_secs: u64,
    /// Page size when a request gives none, and the largest it may ask for.
    pub default_page_size: u32,
    pub max_page_size: u32,
    /// How often `rollcall_sessions_people` is recomputed for the running sessions.
    pub session_metrics_interval_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyConfig {
    pub key: String,
    pub role: ApiRole,
}

/// What a key may do: readers query; admins also enrol, erase and manage cameras.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApiRole {
    Reader,
    Admin,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            keys: Default::default(),
            max_body_bytes: 32 * 1024 * 1024,
            max_photo_bytes: 10 * 1024 * 1024,
            rate_limit_per_minute: 600,
            erase_attendance: true,
            cache_ttl_secs: 3600,
            default_page_size: 50,
            max_page_size: 500,
            session_metrics_interval_secs: 15,
        }
    }
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
        if let Some((name, _)) = self.api.keys.iter().find(|(_, k)| k.key.len() < 16) {
            bail!("api key {name} is shorter than 16 characters: use a long random key");
        }
        let models = &self.models;
        crate::models::resolve(&models.custom, &models.detector, crate::models::ModelRole::Detector)?;
        crate::models::resolve(&models.custom, &models.recognizer, crate::models::ModelRole::Recognizer)?;
        if self.vision.embed_batch == 0 {
            bail!("vision.embed_batch must be at least 1");
        }
        Ok(())
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
impl Default for StoreConfig {
    fn default() -> Self {
        Config::default().store
    }
}
impl Default for VisionConfig {
    fn default() -> Self {
        Self {
            max_pixels: 40_000_000,
            detect_size: 640,
            detect_fallback_size: 320,
            score_threshold: 0.6,
            nms_iou: 0.3,
            min_enrol_face_px: 60,
            min_enrol_score: 0.8,
            min_face_px: 24,
            embed_batch: 16,
        }
    }
}

impl Default for BusConfig {
    fn default() -> Self {
        Self {
            kind: BusKind::Memory,
            capacity: 16,
        }
    }
}

impl Default for ShutdownConfig {
    fn default() -> Self {
        Self { drain_timeout_secs: 30 }
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
