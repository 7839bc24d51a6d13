//! `[notifications]`: how `rollcall serve` delivers notifications, and the MQTT broker.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotificationsConfig {
    /// Whether this `rollcall serve` finds and delivers notifications (several may: they share
    /// the work through the store).
    pub dispatch: bool,
    /// How often the outbox is looked at.
    pub poll_ms: u64,
    /// Attempts per delivery before it is given up (then reported: metrics, log, API).
    pub max_attempts: u32,
    /// Backoff between attempts, doubling from the first to the longest.
    pub retry_initial_ms: u64,
    pub retry_max_ms: u64,
    /// A webhook that has not answered within this long has failed this attempt.
    pub timeout_ms: u64,
    /// Deliveries attempted per look at the outbox.
    pub batch: u64,
    pub mqtt: MqttConfig,
}

impl Default for NotificationsConfig {
    fn default() -> Self {
        Self {
            dispatch: true,
            poll_ms: 1_000,
            max_attempts: 8,
            retry_initial_ms: 1_000,
            retry_max_ms: 300_000,
            timeout_ms: 10_000,
            batch: 50,
            mqtt: MqttConfig::default(),
        }
    }
}

/// `[notifications.mqtt]`: a broker that takes every notification (none without `url`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MqttConfig {
    /// `mqtt://host:port` (plain TCP), with `?client_id=…` if wanted.
    pub url: Option<String>,
    /// Notifications go to `<prefix>/<kind>`, e.g. `rollcall/person/arrived`.
    pub topic_prefix: String,
    /// Which kinds (all when empty).
    pub events: Vec<String>,
    /// Publishes Home Assistant discovery documents (retained) for a sensor per kind.
    pub home_assistant_discovery: bool,
    pub discovery_prefix: String,
}

impl Default for MqttConfig {
    fn default() -> Self {
        Self {
            url: None,
            topic_prefix: "rollcall".into(),
            events: Vec::new(),
            home_assistant_discovery: false,
            discovery_prefix: "homeassistant".into(),
        }
    }
}
