//! `[bus]`: which bus carries the topics, and the in-process one's capacity.

use serde::{Deserialize, Serialize};

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

impl Default for BusConfig {
    fn default() -> Self {
        Self {
            kind: BusKind::Memory,
            capacity: 16,
        }
    }
}
