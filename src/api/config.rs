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
    /// Most photos in one enrolment upload; more is a 400 before any is analysed.
    pub max_photos_per_upload: usize,
    /// Face engines analysing uploaded photos in parallel (0: one per core). Each holds its own
    /// copy of the models; an upload's photos and other uploads share them in turn.
    pub analysis_engines: usize,
    /// Requests per minute per key (a token bucket with a burst of a tenth of that, at least 5).
    pub rate_limit_per_minute: u32,
    /// Whether erasing a person also deletes their attendance (else it is kept, unlinked from any template).
    pub erase_attendance: bool,
    /// How long a cached read lives in Redis; generations keep it correct, this only bounds memory.
    pub cache_ttl_secs: u64,
    /// Memory for this process's own copies of cached bodies, in front of Redis (0: none).
    pub hot_cache_mb: u64,
    /// How often those copies are all dropped: the longest a superseded body (an erased
    /// person's included) stays in memory.
    pub hot_cache_secs: u64,
    /// Page size when a request gives none, and the largest it may ask for.
    pub default_page_size: u32,
    pub max_page_size: u32,
    /// How often `rollcall_sessions_people` is recomputed for the running sessions.
    pub session_metrics_interval_secs: u64,
    /// Until a request's headers are complete, counted from the connection's start or the end of
    /// its last answer: also how long an idle keep-alive connection stays open.
    pub header_timeout_secs: u64,
    /// How long a request body may take to arrive in full (32 MB in 60 s is about 4 Mbit/s).
    pub body_timeout_secs: u64,
    /// On SIGTERM, how long answers in progress may still take before their connections close.
    pub shutdown_grace_secs: u64,
    /// Failed authentications (no key, or a wrong one) per minute from one client address, with a
    /// burst of as many; past that, the address gets 429 until its allowance refills.
    pub auth_failures_per_minute: u32,
    /// How long a web console sign-in lasts before the key must be given again.
    pub console_session_minutes: u64,
    /// Marks the console's session cookie `Secure`: set it when the console is reached over HTTPS
    /// (a TLS proxy in front), so the browser never sends the cookie in clear.
    pub console_secure_cookie: bool,
}

/// One API key: given in clear (`key`) or as the hex SHA-256 of the key (`sha256`), so that the
/// configuration need not hold the secret itself. Exactly one of the two.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    pub role: ApiRole,
}

impl ApiKeyConfig {
    /// A key given in clear.
    pub fn clear(key: impl Into<String>, role: ApiRole) -> Self {
        Self {
            key: Some(key.into()),
            sha256: None,
            role,
        }
    }

    /// The SHA-256 the presented key must have, or why this entry is unusable.
    pub fn digest(&self) -> Result<[u8; 32], String> {
        use sha2::{Digest, Sha256};
        match (&self.key, &self.sha256) {
            (Some(key), None) if key.len() >= 16 => Ok(Sha256::digest(key.as_bytes()).into()),
            (Some(_), None) => Err("is shorter than 16 characters: use a long random key".into()),
            (None, Some(hash)) => {
                let bytes = hex::decode(hash.trim()).map_err(|_| "sha256 is not hexadecimal".to_owned())?;
                bytes
                    .try_into()
                    .map_err(|_| "sha256 must be 64 hexadecimal digits".to_owned())
            }
            _ => Err("needs exactly one of `key` and `sha256`".into()),
        }
    }
}

/// What a key may do: readers query; admins also enrol, erase and manage cameras.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApiRole {
    #[default]
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
            max_photos_per_upload: 20,
            analysis_engines: 0,
            rate_limit_per_minute: 600,
            erase_attendance: true,
            cache_ttl_secs: 3600,
            hot_cache_mb: 64,
            hot_cache_secs: 60,
            default_page_size: 50,
            max_page_size: 500,
            session_metrics_interval_secs: 15,
            header_timeout_secs: 10,
            body_timeout_secs: 60,
            shutdown_grace_secs: 10,
            auth_failures_per_minute: 10,
            console_session_minutes: 480,
            console_secure_cookie: false,
        }
    }
}
