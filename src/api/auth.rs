//! API keys and roles, the per-key rate limit, and the limit on failed authentications per
//! client address. Keys are compared by their SHA-256 in constant time, against every key.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

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
    /// The usable keys of `config` (configuration validation refuses the others).
    pub fn new(config: &BTreeMap<String, ApiKeyConfig>) -> Self {
        let keys = config
            .iter()
            .filter_map(|(name, k)| {
                let caller = Caller {
                    name: name.clone(),
                    role: k.role,
                };
                Some((k.digest().ok()?, caller))
            })
            .collect();
        Self { keys }
    }

    /// Compares with every key, each in constant time, so the time taken tells nothing about
    /// which key or how much of one matched.
    pub fn identify(&self, presented: &str) -> Option<Caller> {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let mut found = None;
        for (key, caller) in &self.keys {
            if bool::from(key.ct_eq(&digest)) {
                found = Some(caller);
            }
        }
        found.cloned()
    }

    /// The caller a key name stands for now: a console session speaks for its key only while the
    /// key is still configured, with the role it has today.
    pub fn by_name(&self, name: &str) -> Option<Caller> {
        self.keys.iter().find(|(_, c)| c.name == name).map(|(_, c)| c.clone())
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

/// Buckets kept before full (idle) ones are forgotten, so many clients cannot grow the map forever.
const MAX_BUCKETS: usize = 10_000;

impl RateLimiter {
    pub fn new(per_minute: u32) -> Self {
        Self::with_burst(per_minute, (f64::from(per_minute) / 10.0).max(5.0))
    }

    pub fn with_burst(per_minute: u32, burst: f64) -> Self {
        Self {
            per_second: f64::from(per_minute) / 60.0,
            burst,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `key` has a token left, without taking it.
    pub fn has_tokens(&self, key: &str, now: Instant) -> bool {
        let buckets = self.buckets.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        buckets
            .get(key)
            .is_none_or(|(tokens, last)| tokens + now.duration_since(*last).as_secs_f64() * self.per_second >= 1.0)
    }

    /// Takes a token for `key`, or says how long until one is available.
    pub fn admit(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if buckets.len() >= MAX_BUCKETS && !buckets.contains_key(key) {
            let (per_second, burst) = (self.per_second, self.burst);
            buckets.retain(|_, (tokens, last)| *tokens + now.duration_since(*last).as_secs_f64() * per_second < burst);
        }
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

/// The client's address, as the connection gave it (a proxy in front would need to pass the
/// client's own, which rollcall does not trust from headers).
fn client_address(request: &Request) -> String {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_owned(), |ConnectInfo(peer)| peer.ip().to_string())
}

fn too_many(wait: Duration, message: String) -> Response {
    let seconds = retry_seconds(wait);
    let mut response = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!("{message}; retry in {seconds} s"),
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

fn retry_seconds(wait: Duration) -> u64 {
    wait.as_secs_f64().ceil().max(1.0) as u64
}

/// Why a key was not taken: the API answers it as an error, the console's sign-in as a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// 401: no key, or not a key of this deployment.
    Unauthorized(&'static str),
    /// 429: this address failed too often, or this key used up its rate.
    TooMany { wait: Duration, message: String },
}

impl Refusal {
    pub fn message(&self) -> String {
        match self {
            Refusal::Unauthorized(message) => (*message).to_owned(),
            Refusal::TooMany { wait, message } => format!("{message}; retry in {} s", retry_seconds(*wait)),
        }
    }

    fn into_response(self) -> Response {
        match self {
            Refusal::Unauthorized(message) => {
                ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message).into_response()
            }
            Refusal::TooMany { wait, message } => too_many(wait, message),
        }
    }
}

/// A failed authentication: counted against the client's address and logged; past the
/// address's allowance of failures it is a 429.
fn refuse(state: &ApiState, address: &str, reason: &'static str, message: &'static str) -> Refusal {
    crate::telemetry::events::Emit::emit(crate::telemetry::events::AuthenticationFailed { address, reason });
    if let Err(wait) = state.auth_failures.admit(address, Instant::now()) {
        let message = format!("too many failed authentications from {address}");
        return Refusal::TooMany { wait, message };
    }
    Refusal::Unauthorized(message)
}

/// The caller a presented key (or its absence) stands for, from `address`: the one check of a key
/// for the API and the console's sign-in, with the limit on failures and the key's rate limit.
pub fn authenticate(state: &ApiState, address: &str, presented: Option<&str>) -> Result<Caller, Refusal> {
    // An address that has failed too often is refused before its key is even looked at, so
    // guessing keys gets no answer either way (`refuse` answers 429 as the allowance is spent).
    if !state.auth_failures.has_tokens(address, Instant::now()) {
        return Err(refuse(state, address, "blocked", "too many failed authentications"));
    }
    let Some(presented) = presented else {
        let message = "an API key is required: send `Authorization: Bearer <key>`";
        return Err(refuse(state, address, "missing", message));
    };
    let Some(caller) = state.keys.identify(presented) else {
        return Err(refuse(state, address, "wrong", "the API key is not valid"));
    };
    admit(state, &caller)?;
    Ok(caller)
}

/// Takes a token of the caller's rate limit.
pub fn admit(state: &ApiState, caller: &Caller) -> Result<(), Refusal> {
    state.limiter.admit(&caller.name, Instant::now()).map_err(|wait| {
        crate::telemetry::events::Emit::emit(crate::telemetry::events::RateLimited { key: &caller.name });
        Refusal::TooMany {
            wait,
            message: format!("too many requests for key {}", caller.name),
        }
    })
}

/// Whether `caller` has the role an action needs: the one rule for the API's routes and the
/// console's forms.
pub fn permitted(caller: &Caller, needed: ApiRole) -> Result<(), ApiError> {
    if caller.role < needed {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("key {} is a reader key; this route needs an admin key", caller.name),
        ));
    }
    Ok(())
}

async fn authorize(state: &ApiState, mut request: Request, next: Next, needed: ApiRole) -> Response {
    let address = client_address(&request);
    let caller = match authenticate(state, &address, presented_key(request.headers())) {
        Ok(caller) => caller,
        Err(refusal) => return refusal.into_response(),
    };
    if let Err(e) = permitted(&caller, needed) {
        return e.into_response();
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
            ApiKeyConfig::clear("reader-key-0123456789", ApiRole::Reader),
        );
        let ring = KeyRing::new(&config);
        assert_eq!(ring.identify("reader-key-0123456789").unwrap().name, "desk");
        assert!(ring.identify("reader-key-012345678").is_none());
    }

    #[test]
    fn a_key_configured_by_its_hash_is_found_by_its_value() {
        let mut config = BTreeMap::new();
        let hash = hex::encode(Sha256::digest(b"admin-key-0123456789abcdef"));
        let entry = ApiKeyConfig {
            key: None,
            sha256: Some(hash),
            role: ApiRole::Admin,
        };
        config.insert("ops".to_owned(), entry);
        let ring = KeyRing::new(&config);
        let caller = ring.identify("admin-key-0123456789abcdef").unwrap();
        assert_eq!((caller.name.as_str(), caller.role), ("ops", ApiRole::Admin));
        assert!(ring.identify("admin-key-0123456789abcdeF").is_none());
    }

    #[test]
    fn a_key_entry_needs_exactly_one_usable_form() {
        let short = ApiKeyConfig::clear("short", ApiRole::Reader);
        assert!(short.digest().unwrap_err().contains("16"));
        let neither = ApiKeyConfig::default();
        assert!(neither.digest().unwrap_err().contains("exactly one"));
        let bad_hash = ApiKeyConfig {
            sha256: Some("abcd".into()),
            ..Default::default()
        };
        assert!(bad_hash.digest().unwrap_err().contains("64"));
    }

    #[test]
    fn idle_buckets_are_forgotten_when_there_are_too_many() {
        let limiter = RateLimiter::with_burst(60, 10.0);
        let start = Instant::now();
        for n in 0..MAX_BUCKETS {
            limiter.admit(&format!("client-{n}"), start).unwrap();
        }
        let later = start + Duration::from_secs(60);
        limiter.admit("newcomer", later).unwrap();
        assert_eq!(limiter.buckets.lock().unwrap().len(), 1, "refilled buckets are dropped");
    }
}
