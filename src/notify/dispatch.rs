//! The dispatcher in `rollcall serve`: every `notifications.poll_ms` it queues what there is to
//! tell, gives each channel its deliveries, and attempts the deliveries that are due; a failed
//! attempt is tried again with backoff up to `max_attempts`, then given up and reported (log,
//! metrics, `GET /v1/notifications?status=failed`), never dropped silently.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use tokio_util::sync::CancellationToken;

use super::mqtt::MqttPublisher;
use super::sources::{self, Known};
use super::webhook::{self, WebhookRequest};
use super::{NotificationKind, NotificationsConfig};
use crate::review::ReviewConfig;
use crate::store::entities::notification_channel as channel;
use crate::store::{Attempt, DELIVERED, DeliveryView, FAILED, PENDING, Store};

/// The channel id of the configured MQTT broker.
pub const MQTT_CHANNEL: &str = "mqtt";

/// Notification ids remembered by one process before it forgets and lets the outbox judge.
const KNOWN_AT_MOST: usize = 200_000;

pub struct Dispatcher {
    store: Store,
    config: NotificationsConfig,
    review: ReviewConfig,
    http: reqwest::Client,
    mqtt: Option<MqttPublisher>,
    known: Known,
}

impl Dispatcher {
    /// Registers the configured MQTT broker as a channel (its kinds count from when it was first
    /// registered) and checks its URL.
    pub async fn new(store: Store, config: NotificationsConfig, review: ReviewConfig) -> anyhow::Result<Dispatcher> {
        let mqtt = match &config.mqtt.url {
            Some(url) => {
                let publisher = MqttPublisher::new(&config.mqtt)?;
                let kinds = kinds_named(&config.mqtt.events)?;
                store
                    .put_notification_channel(channel::Model {
                        channel_id: MQTT_CHANNEL.into(),
                        kind: "mqtt".into(),
                        url: url.clone(),
                        secret: String::new(),
                        events: serde_json::to_string(&kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>())?,
                        created_at: Utc::now(),
                    })
                    .await?;
                Some(publisher)
            }
            None => {
                store.remove_notification_channel(MQTT_CHANNEL).await?;
                None
            }
        };
        crate::http::install_tls_provider();
        let http = reqwest::Client::builder()
            .user_agent(concat!("rollcall/", env!("CARGO_PKG_VERSION")))
            .timeout(Duration::from_millis(config.timeout_ms.max(1)))
            .build()?;
        Ok(Dispatcher {
            store,
            config,
            review,
            http,
            mqtt,
            known: Known::default(),
        })
    }

    /// Runs until `stop`; a store error is logged and the next round tries again.
    pub async fn run(mut self, stop: CancellationToken) {
        let poll = Duration::from_millis(self.config.poll_ms.max(10));
        loop {
            if let Err(e) = self.round().await {
                tracing::warn!(error = %format!("{e:#}"), "notification round failed; trying again");
            }
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(poll) => {}
            }
        }
    }

    /// One look at the outbox: queue, fan out, deliver what is due, update the gauges.
    pub async fn round(&mut self) -> anyhow::Result<()> {
        let now = Utc::now();
        let channels = self.store.notification_channels().await?;
        let mut takes: HashMap<String, Vec<NotificationKind>> = HashMap::new();
        for c in &channels {
            takes.insert(c.channel_id.clone(), kinds_of(c));
        }
        let wanted: HashSet<NotificationKind> = takes.values().flatten().copied().collect();
        if !wanted.is_empty() {
            // What was not queued is offered again next round: this process forgets what it knew.
            let found = match sources::find(&self.store, &self.review, &wanted, now, &mut self.known).await {
                Ok(found) => found,
                Err(e) => {
                    self.known = Known::default();
                    return Err(e);
                }
            };
            if let Err(e) = self.store.enqueue_notifications(&found).await {
                self.known = Known::default();
                return Err(e.into());
            }
            self.known.trim(KNOWN_AT_MOST);
        }
        for c in &channels {
            let kinds: Vec<&str> = takes[&c.channel_id].iter().map(|k| k.as_str()).collect();
            if !kinds.is_empty() {
                self.store.fan_out(c, &kinds, now).await?;
            }
        }
        let lease = TimeDelta::milliseconds((self.config.timeout_ms * 2 + 5_000) as i64);
        let due = self
            .store
            .claim_deliveries(now, lease, self.config.batch.max(1))
            .await?;
        let by_id: HashMap<&str, &channel::Model> = channels.iter().map(|c| (c.channel_id.as_str(), c)).collect();
        for delivery in due {
            let Some(channel) = by_id.get(delivery.delivery.channel_id.as_str()) else {
                continue; // removed meanwhile: its pending deliveries went with it
            };
            let outcome = self.attempt(channel, &delivery).await;
            record(&self.store, &self.config, channel, &delivery, outcome).await?;
        }
        // Every (channel, status) has a series, at zero when there is nothing of it.
        let mut counts: HashMap<(String, String), u64> = HashMap::new();
        for kind in ["webhook", "mqtt"] {
            for status in [PENDING, DELIVERED, FAILED] {
                counts.insert((kind.into(), status.into()), 0);
            }
        }
        for (kind, status, n) in self.store.delivery_counts().await? {
            counts.insert((kind, status), n);
        }
        let metrics = crate::metrics::metrics();
        for ((kind, status), n) in counts {
            metrics
                .notification_deliveries
                .with_label_values(&[kind.as_str(), status.as_str()])
                .set(n as i64);
        }
        Ok(())
    }

    async fn attempt(&mut self, channel: &channel::Model, delivery: &DeliveryView) -> Result<(), String> {
        let timeout = Duration::from_millis(self.config.timeout_ms.max(1));
        match channel.kind.as_str() {
            "webhook" => {
                let request = WebhookRequest {
                    url: &channel.url,
                    secret: &channel.secret,
                    notification_id: delivery.delivery.notification_id,
                    kind: &delivery.kind,
                    body: &delivery.payload,
                };
                webhook::deliver(&self.http, request).await
            }
            "mqtt" => match self.mqtt.as_mut() {
                Some(mqtt) => mqtt.deliver(&delivery.kind, delivery.payload.as_bytes(), timeout).await,
                None => Err("no MQTT broker is configured in this process ([notifications.mqtt] url)".into()),
            },
            other => Err(format!("unknown channel kind {other:?}")),
        }
    }
}

/// Stores what an attempt came to, counts it, and logs a failure (as an error when given up).
async fn record(
    store: &Store,
    config: &NotificationsConfig,
    channel: &channel::Model,
    delivery: &DeliveryView,
    outcome: Result<(), String>,
) -> anyhow::Result<()> {
    let now = Utc::now();
    let attempts = delivery.delivery.attempts as u32 + 1;
    let (attempt, label) = match outcome {
        Ok(()) => (Attempt::Delivered, "delivered"),
        Err(error) if attempts >= config.max_attempts.max(1) => {
            tracing::error!(
                channel = channel.channel_id,
                kind = delivery.kind,
                subject = delivery.subject,
                notification = %delivery.delivery.notification_id,
                attempts,
                error,
                "notification given up after its last attempt (GET /v1/notifications?status=failed; retry there)"
            );
            (Attempt::GiveUp { error }, "failed")
        }
        Err(error) => {
            let delay = backoff(config, attempts);
            tracing::warn!(
                channel = channel.channel_id,
                kind = delivery.kind,
                attempts,
                retry_in_ms = delay.num_milliseconds(),
                error,
                "notification not delivered; retrying"
            );
            (Attempt::Retry { error, at: now + delay }, "retried")
        }
    };
    store
        .record_attempt(delivery.delivery.delivery_id, &attempt, now)
        .await?;
    crate::metrics::metrics()
        .notification_attempts
        .with_label_values(&[channel.kind.as_str(), label])
        .inc();
    Ok(())
}

/// The wait after `attempts` failed attempts: doubling from `retry_initial_ms` to `retry_max_ms`.
fn backoff(config: &NotificationsConfig, attempts: u32) -> TimeDelta {
    let initial = config.retry_initial_ms.max(1);
    let ms = initial.saturating_mul(1u64 << attempts.saturating_sub(1).min(30));
    TimeDelta::milliseconds(ms.min(config.retry_max_ms.max(initial)) as i64)
}

/// The kinds a channel takes (its stored list; unknown names are ignored).
fn kinds_of(channel: &channel::Model) -> Vec<NotificationKind> {
    let names: Vec<String> = serde_json::from_str(&channel.events).unwrap_or_default();
    names.iter().filter_map(|n| NotificationKind::parse(n)).collect()
}

/// Kinds by name; every kind when `names` is empty.
pub fn kinds_named(names: &[String]) -> anyhow::Result<Vec<NotificationKind>> {
    if names.is_empty() {
        return Ok(NotificationKind::ALL.to_vec());
    }
    names
        .iter()
        .map(|n| {
            NotificationKind::parse(n).ok_or_else(|| {
                let known: Vec<&str> = NotificationKind::ALL.iter().map(|k| k.as_str()).collect();
                anyhow::anyhow!("unknown notification kind {n:?} (known: {})", known.join(", "))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_longest_wait() {
        let config = NotificationsConfig {
            retry_initial_ms: 100,
            retry_max_ms: 1_000,
            ..Default::default()
        };
        let waits: Vec<i64> = (1..=6).map(|a| backoff(&config, a).num_milliseconds()).collect();
        assert_eq!(waits, [100, 200, 400, 800, 1_000, 1_000]);
    }

    #[test]
    fn kinds_are_named_or_all() {
        assert_eq!(kinds_named(&[]).unwrap().len(), 4);
        assert_eq!(
            kinds_named(&["session.late".into()]).unwrap(),
            [NotificationKind::SessionLate]
        );
        assert!(
            kinds_named(&["person.left".into()])
                .unwrap_err()
                .to_string()
                .contains("person.arrived")
        );
    }
}
