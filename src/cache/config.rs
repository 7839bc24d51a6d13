//! `[redis]`: the read cache.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RedisConfig {
    /// `redis://host:6379`. Unset: no read cache, nothing to invalidate (the embedded default).
    pub url: Option<String>,
}
