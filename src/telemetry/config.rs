//! `[telemetry]`: logs, the stage processes' metrics endpoint, and trace export.

use serde::{Deserialize, Serialize};

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
