//! Webhook endpoints, one rule for the API and the CLI: an http(s) URL, a signing secret and the
//! notification kinds it takes. Notifications count for an endpoint from when it was added.

use chrono::Utc;

use super::Services;
use crate::notify::dispatch::kinds_named;
use crate::store::entities::notification_channel as channel;

/// The shortest signing secret: HMAC-SHA256 keys this short are guessable.
pub const MIN_SECRET_CHARS: usize = 16;
pub const MAX_SECRET_CHARS: usize = 200;
pub const MAX_URL_CHARS: usize = 2_000;

/// Why a webhook was refused; nothing was changed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum Refusal {
    #[error("url {0:?} is not an http:// or https:// URL with a host")]
    Url(String),
    #[error("secret must have {MIN_SECRET_CHARS} to {MAX_SECRET_CHARS} characters")]
    Secret,
    #[error("{0}")]
    Kinds(String),
    #[error("no webhook {0}")]
    NoWebhook(String),
}

/// A webhook as it is asked for.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    pub url: String,
    pub secret: String,
    /// Kind names; every kind when empty.
    pub events: Vec<String>,
}

/// Adds an endpoint; returns it (its id is `webhook:<uuid>`).
pub async fn add(svc: &Services, actor: &str, new: NewWebhook) -> anyhow::Result<Result<channel::Model, Refusal>> {
    if !is_http_url(&new.url) {
        return Ok(Err(Refusal::Url(new.url)));
    }
    let secret_chars = new.secret.chars().count();
    if !(MIN_SECRET_CHARS..=MAX_SECRET_CHARS).contains(&secret_chars) {
        return Ok(Err(Refusal::Secret));
    }
    let kinds = match kinds_named(&new.events) {
        Ok(kinds) => kinds,
        Err(e) => return Ok(Err(Refusal::Kinds(e.to_string()))),
    };
    let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    let row = channel::Model {
        channel_id: format!("webhook:{}", uuid::Uuid::new_v4()),
        kind: "webhook".into(),
        url: new.url,
        secret: new.secret,
        events: serde_json::to_string(&names)?,
        created_at: Utc::now(),
    };
    svc.store.put_notification_channel(row.clone()).await?;
    let details = serde_json::json!({ "url": row.url, "events": names });
    svc.store
        .audit(actor, "webhook.added", &row.channel_id, details)
        .await?;
    Ok(Ok(row))
}

/// Removes an endpoint and the deliveries still waiting for it.
pub async fn remove(svc: &Services, actor: &str, id: &str) -> anyhow::Result<Result<(), Refusal>> {
    if !id.starts_with("webhook:") || !svc.store.remove_notification_channel(id).await? {
        return Ok(Err(Refusal::NoWebhook(id.to_owned())));
    }
    svc.store
        .audit(actor, "webhook.removed", id, serde_json::json!({}))
        .await?;
    Ok(Ok(()))
}

/// `http://` or `https://`, a host, and no more than `MAX_URL_CHARS`.
fn is_http_url(raw: &str) -> bool {
    if raw.len() > MAX_URL_CHARS || raw.chars().any(char::is_control) {
        return false;
    }
    let Ok(url) = reqwest::Url::parse(raw) else {
        return false;
    };
    matches!(url.scheme(), "http" | "https") && url.host_str().is_some_and(|h| !h.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_urls_with_a_host_are_endpoints() {
        for good in ["http://127.0.0.1:9000/hook", "https://example.org/rollcall?x=1"] {
            assert!(is_http_url(good), "{good}");
        }
        for bad in [
            "ftp://example.org/",
            "file:///etc/passwd",
            "mqtt://broker",
            "http://",
            "example.org",
            "javascript:alert(1)",
        ] {
            assert!(!is_http_url(bad), "{bad}");
        }
    }
}
