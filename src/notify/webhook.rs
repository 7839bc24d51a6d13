//! Webhook deliveries: the notification's JSON POSTed to the endpoint, signed with its secret
//! (HMAC-SHA256 over the timestamp and the body) and carrying the notification's idempotency key.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header with the signature: `sha256=<hex of HMAC-SHA256(secret, "<timestamp>.<body>")>`.
pub const SIGNATURE_HEADER: &str = "x-rollcall-signature";
/// Seconds since the epoch when the request was signed (part of what is signed, so an old
/// request cannot be replayed as new).
pub const TIMESTAMP_HEADER: &str = "x-rollcall-timestamp";
/// The notification's kind, e.g. `person.arrived`.
pub const EVENT_HEADER: &str = "x-rollcall-event";
/// The notification's id: the same on every attempt, so a receiver keeps each notification once.
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";

/// The signature header's value for `body` sent at `timestamp`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Whether `header` is the signature of `body` at `timestamp` (constant time): what a receiver checks.
pub fn verify(secret: &str, timestamp: i64, body: &[u8], header: &str) -> bool {
    let Some(hex_mac) = header.strip_prefix("sha256=") else {
        return false;
    };
    let Ok(given) = hex::decode(hex_mac) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&given).is_ok()
}

/// One webhook request.
pub struct WebhookRequest<'a> {
    pub url: &'a str,
    pub secret: &'a str,
    pub notification_id: uuid::Uuid,
    pub kind: &'a str,
    pub body: &'a str,
}

/// POSTs the notification; any answer but 2xx (or none within the client's timeout) is a failed
/// attempt, with the reason.
pub async fn deliver(client: &reqwest::Client, request: WebhookRequest<'_>) -> Result<(), String> {
    let timestamp = chrono::Utc::now().timestamp();
    let answer = client
        .post(request.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(IDEMPOTENCY_HEADER, request.notification_id.to_string())
        .header(EVENT_HEADER, request.kind)
        .header(TIMESTAMP_HEADER, timestamp.to_string())
        .header(
            SIGNATURE_HEADER,
            signature(request.secret, timestamp, request.body.as_bytes()),
        )
        .body(request.body.to_owned())
        .send()
        .await
        .map_err(|e| format!("no answer: {e}"))?;
    let status = answer.status();
    if status.is_success() {
        return Ok(());
    }
    let text = answer.text().await.unwrap_or_default();
    let excerpt: String = text.chars().take(200).collect();
    Err(format!("answered {status}: {excerpt}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_with_its_secret_only() {
        let body = br#"{"kind":"person.arrived"}"#;
        let header = signature("s3cret-s3cret-s3cret", 1_700_000_000, body);
        assert!(header.starts_with("sha256=") && header.len() == 7 + 64);
        assert!(verify("s3cret-s3cret-s3cret", 1_700_000_000, body, &header));
        assert!(!verify("another-secret-here", 1_700_000_000, body, &header));
        assert!(!verify("s3cret-s3cret-s3cret", 1_700_000_001, body, &header));
        assert!(!verify("s3cret-s3cret-s3cret", 1_700_000_000, b"{}", &header));
        assert!(!verify("s3cret-s3cret-s3cret", 1_700_000_000, body, "md5=00"));
    }
}
