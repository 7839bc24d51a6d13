//! `[store]`: the database.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// A sea-orm database URL: `sqlite://…?mode=rwc` (embedded default) or `postgres://…`.
    pub url: String,
    pub max_connections: u32,
}
