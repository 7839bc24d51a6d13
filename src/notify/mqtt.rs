//! MQTT deliveries through rumqttc: each notification published at QoS 1 to
//! `<prefix>/<kind>` (`rollcall/person/arrived`), delivered once the broker acknowledges it; and,
//! if asked, Home Assistant discovery documents (retained) for a sensor per kind.

use std::time::Duration;

use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Outgoing, Packet, QoS};

use super::{MqttConfig, NotificationKind};

/// A connection to the broker, made when first needed and dropped at the first error (the next
/// attempt connects afresh, so nothing of a broken session is sent twice by it).
pub struct MqttPublisher {
    config: MqttConfig,
    session: Option<(AsyncClient, EventLoop)>,
    /// Whether this connection has published the discovery documents.
    announced: bool,
}

impl MqttPublisher {
    /// Checks the URL now, so a wrong one fails `rollcall serve` at start.
    pub fn new(config: &MqttConfig) -> anyhow::Result<Self> {
        let publisher = MqttPublisher {
            config: config.clone(),
            session: None,
            announced: false,
        };
        publisher.options()?;
        Ok(publisher)
    }

    fn options(&self) -> anyhow::Result<MqttOptions> {
        let raw = self.config.url.as_deref().unwrap_or_default();
        let wrong = |why: &str| anyhow::anyhow!("notifications.mqtt.url {raw:?}: {why} (expected mqtt://host:port)");
        let url = reqwest::Url::parse(raw).map_err(|e| wrong(&e.to_string()))?;
        if !matches!(url.scheme(), "mqtt" | "tcp") {
            return Err(wrong("only plain mqtt:// is supported"));
        }
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| wrong("no host"))?;
        let client_id = url
            .query_pairs()
            .find(|(k, _)| k == "client_id")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_else(|| format!("rollcall-{}", uuid::Uuid::new_v4().simple()));
        let mut options = MqttOptions::new(client_id, host, url.port().unwrap_or(1883));
        options.set_keep_alive(Duration::from_secs(30));
        Ok(options)
    }

    /// The topic a kind is published on.
    pub fn topic(&self, kind: &str) -> String {
        format!("{}/{}", self.config.topic_prefix, kind.replace('.', "/"))
    }

    /// Publishes `payload` to the topic of `kind` and waits for the broker's acknowledgement.
    pub async fn deliver(&mut self, kind: &str, payload: &[u8], timeout: Duration) -> Result<(), String> {
        let outcome = tokio::time::timeout(timeout, self.deliver_now(kind, payload)).await;
        let outcome = outcome.unwrap_or_else(|_| Err(format!("no acknowledgement within {timeout:?}")));
        if outcome.is_err() {
            self.session = None;
            self.announced = false;
        }
        outcome
    }

    async fn deliver_now(&mut self, kind: &str, payload: &[u8]) -> Result<(), String> {
        if self.config.home_assistant_discovery && !self.announced {
            for kind in NotificationKind::ALL {
                let (topic, document) = self.discovery(kind);
                self.publish(&topic, document.to_string().into_bytes(), true).await?;
            }
            self.announced = true;
        }
        self.publish(&self.topic(kind), payload.to_vec(), false).await
    }

    /// One publish at QoS 1, driving the connection until the broker acknowledges it.
    async fn publish(&mut self, topic: &str, payload: Vec<u8>, retain: bool) -> Result<(), String> {
        if self.session.is_none() {
            let options = self.options().map_err(|e| e.to_string())?;
            self.session = Some(AsyncClient::new(options, 16));
        }
        let (client, events) = self.session.as_mut().expect("just made");
        client
            .publish(topic, QoS::AtLeastOnce, retain, payload)
            .await
            .map_err(|e| format!("publish to {topic}: {e}"))?;
        let mut sent = None;
        loop {
            match events.poll().await {
                Ok(Event::Outgoing(Outgoing::Publish(id))) => sent = Some(id),
                Ok(Event::Incoming(Packet::PubAck(ack))) if Some(ack.pkid) == sent => return Ok(()),
                Ok(_) => {}
                Err(e) => return Err(format!("broker connection: {e}")),
            }
        }
    }

    /// Home Assistant's discovery document of a sensor showing the latest notification of `kind`.
    fn discovery(&self, kind: NotificationKind) -> (String, serde_json::Value) {
        let object = format!("rollcall_{}", kind.as_str().replace('.', "_"));
        let topic = format!("{}/sensor/{object}/config", self.config.discovery_prefix);
        let document = serde_json::json!({
            "name": format!("rollcall {}", kind.as_str().replace('.', " ")),
            "unique_id": object,
            "state_topic": self.topic(kind.as_str()),
            "value_template": "{{ value_json.subject }}",
            "json_attributes_topic": self.topic(kind.as_str()),
            "json_attributes_template": "{{ value_json.data | tojson }}",
        });
        (topic, document)
    }
}
