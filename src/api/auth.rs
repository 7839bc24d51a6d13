//! API keys and roles, and the per-key rate limit. Keys are compared by their SHA-256, so the
//! comparison takes the same time whatever the key.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::ApiState;
use super::error::ApiError;
use crate::config::{ApiKeyConfig, ApiRole};

/// Who is calling: the key's name (what the audit log records) and role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub name: String,
    pub role: ApiRole,
}

pub struct KeyRing {
    keys: Vec<([u8; 32], Caller)>,
}

impl KeyRing {
    pub fn new(config: &BTreeMap<String, ApiKeyConfig>) -> Self {
        let keys = config
            .iter()
            .map(|(name, k)| {
                let caller = Caller {
                    name: name.clone(),
                    role: k.role,
                };
                (Sha256::digest(k.key.as_bytes()).into(), caller)
            })
            .collect();
        Self { keys }
    }

    pub fn identify(&self, presented: &str) -> Option<Caller> {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        self.keys.iter().find(|(d, _)| *d == digest).map(|(_, c)| c.clone())
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// A token bucket per key: `burst` requests at once, refilled at `per_minute`.
pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_second: f64::from(per_minute) / 60.0,
            burst: (f64::from(per_minute) / 10.0).max(5.0),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token for `key`, or says how long until one is available.
    pub fn admit(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().expect("rate limiter lock");
        let (tokens, last) = buckets.entry(key.to_owned()).or_insert((self.burst, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * self.per_second).min(self.burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            return Ok(());
        }
        if self.per_second <= 0.0 {
            return Err(Duration::from_secs(60));
        }
        Err(Duration::from_secs_f64((1.0 - *tokens) / self.per_second))
    }
}

/// `Authorization: Bearer <key>` or `X-API-Key: <key>`.
fn presented_key(headers: &HeaderMap) -> Option<&str> {
    if let Some(value) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        return value.strip_prefix("Bearer ").map(str::trim);
    }
    headers.get("x-api-key").and_then(|v| v.to_str().ok()).map(str::trim)
}

pub async fn require_reader(State(state): State<ApiState>, request: Request, next: Next) -> Response {
    authorize(&state, request, next, ApiRole::Reader).await
}

pub async fn require_admin(State(state): State<ApiState>, request: Request, next: Next) -> Response {
    authorize(&state, request, next, ApiRole::Admin).await
}

async fn authorize(state: &ApiState, mut request: Request, next: Next, needed: ApiRole) -> Response {
    let Some(presented) = presented_key(request.headers()) else {
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "an API key is required: send `Authorization: Bearer <key>`",
        )
        .into_response();
    };
    let Some(caller) = state.keys.identify(presented) else {
        return ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "the API key is not valid").into_response();
    };
    if let Err(wait) = state.limiter.admit(&caller.name, Instant::now()) {
        crate::telemetry::events::Emit::emit(crate::telemetry::events::RateLimited { key: &caller.name });
        let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
        let mut response = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many requests for key {}; retry in {seconds} s", caller.name),
        )
        .into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        return response;
    }
    if caller.role < needed {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("key {} is a reader key; this route needs an admin key", caller.name),
        )
        .into_response();
    }
    request.extensions_mut().insert(caller);
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_allows_a_burst_then_refills_at_the_rate() {
        let limiter = RateLimiter::new(60);
        let start = Instant::now();
        for _ in 0..6 {
            assert!(limiter.admit("a", start).is_ok());
        }
        let wait = limiter.admit("a", start).unwrap_err();
        assert!(wait <= Duration::from_secs(1), "{wait:?}");
        assert!(limiter.admit("b", start).is_ok(), "keys have buckets of their own");
        assert!(limiter.admit("a", start + Duration::from_secs(1)).is_ok());
    }

    #[test]
    fn keys_are_found_by_value_with_their_role() {
        let mut config = BTreeMap::new();
        config.insert(
            "desk".to_owned(),
            ApiKeyConfig {
                key: "reader-key-0123456789".into(),
                role: ApiRole::Reader,
            },
        );
        let ring = KeyRing::new(&config);
        assert_eq!(ring.identify("reader-key-0123456789").unwrap().name, "desk");
        assert!(ring.identify("reader-key-012345678").is_none());
    }
}
