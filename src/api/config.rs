//! `[api]`: `rollcall serve`'s address, keys, limits and cache lifetime.

use serde::{Deserialize, Serialize};

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
