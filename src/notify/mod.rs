//! Notifications out: what rollcall tells the outside world (a person arrived, an unknown face
//! keeps coming, someone is late or absent once a session's grace period is over), kept in an
//! outbox under an idempotency key and delivered to webhooks (signed, retried) and MQTT.

pub mod config;
pub mod dispatch;
pub mod mqtt;
pub mod sources;
pub mod webhook;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use config::{MqttConfig, NotificationsConfig};

/// Namespace of notification ids: the same fact always has the same id (its idempotency key).
const NOTIFICATION_NAMESPACE: Uuid = Uuid::from_u128(0x0b1c_7d2e_4f5a_4c6b_9d8e_1f2a_3b4c_5d6e);

/// What a notification tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub enum NotificationKind {
    /// A person's first attendance of the day (UTC).
    #[serde(rename = "person.arrived")]
    PersonArrived,
    /// An unknown-face cluster reached `review.flag_after` faces.
    #[serde(rename = "cluster.flagged")]
    ClusterFlagged,
    /// A member arrived after the grace period of a running session.
    #[serde(rename = "session.late")]
    SessionLate,
    /// A member not there when a running session's grace period ended.
    #[serde(rename = "session.absent")]
    SessionAbsent,
}

impl NotificationKind {
    pub const ALL: [NotificationKind; 4] = [
        NotificationKind::PersonArrived,
        NotificationKind::ClusterFlagged,
        NotificationKind::SessionLate,
        NotificationKind::SessionAbsent,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            NotificationKind::PersonArrived => "person.arrived",
            NotificationKind::ClusterFlagged => "cluster.flagged",
            NotificationKind::SessionLate => "session.late",
            NotificationKind::SessionAbsent => "session.absent",
        }
    }

    pub fn parse(raw: &str) -> Option<NotificationKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw)
    }
}

/// One notification: a fact, its idempotency key and the document sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub id: Uuid,
    pub kind: NotificationKind,
    /// What it is about, in its key: `person/day`, a cluster, `schedule/date/person`.
    pub subject: String,
    pub person_id: Option<String>,
    pub data: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

impl Notification {
    /// A notification of `kind` about `subject`, whose id derives from both.
    pub fn new(
        kind: NotificationKind,
        subject: String,
        person_id: Option<String>,
        data: serde_json::Value,
        created_at: DateTime<Utc>,
    ) -> Self {
        let id = Uuid::new_v5(
            &NOTIFICATION_NAMESPACE,
            format!("{}/{subject}", kind.as_str()).as_bytes(),
        );
        Notification {
            id,
            kind,
            subject,
            person_id,
            data,
            created_at,
        }
    }

    /// The JSON document every channel receives.
    pub fn document(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "kind": self.kind.as_str(),
            "subject": self.subject,
            "created_at": self.created_at,
            "data": self.data,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_fact_has_the_same_id_and_kinds_round_trip() {
        let at = Utc::now();
        let a = Notification::new(
            NotificationKind::PersonArrived,
            "ana/2026-11-20".into(),
            None,
            serde_json::json!({}),
            at,
        );
        let b = Notification::new(
            NotificationKind::PersonArrived,
            "ana/2026-11-20".into(),
            None,
            serde_json::json!({"x": 1}),
            at,
        );
        let c = Notification::new(
            NotificationKind::SessionLate,
            "ana/2026-11-20".into(),
            None,
            serde_json::json!({}),
            at,
        );
        assert_eq!(a.id, b.id);
        assert_ne!(a.id, c.id);
        for kind in NotificationKind::ALL {
            assert_eq!(NotificationKind::parse(kind.as_str()), Some(kind));
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
        assert_eq!(a.document()["kind"], "person.arrived");
    }
}
