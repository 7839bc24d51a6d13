//! Reads through the Redis cache: an entry per key version, found with the generations the
//! store pushes to this process (no database round trip on a hit), looked for first in the
//! process's own copies (`hot.rs`: no round trip at all), and sent out as the JSON bytes stored,
//! never decoded and encoded again.

use std::future::Future;
use std::marker::PhantomData;
use std::time::Duration;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::ApiState;
use super::error::ApiError;
use crate::cache::keys;
use crate::metrics::metrics;
use crate::telemetry::events::{CacheReadDegraded, Emit};

/// A JSON response body of type `T`, as stored in the cache. A change to the shape of a cached
/// response needs a new `keys::PREFIX`, so that no entry of the old shape is ever sent.
#[derive(Debug, Clone)]
pub struct CachedJson<T> {
    json: Bytes,
    shape: PhantomData<fn() -> T>,
}

impl<T: Serialize> CachedJson<T> {
    fn encode(value: &T) -> Result<Self, ApiError> {
        let json = serde_json::to_string(value).map_err(|e| ApiError::internal("response not serialisable", e))?;
        Ok(Self::from_json(json.into()))
    }
}

impl<T> CachedJson<T> {
    fn from_json(json: Bytes) -> Self {
        Self {
            json,
            shape: PhantomData,
        }
    }
}

impl<T: DeserializeOwned> CachedJson<T> {
    /// The value, for the few answers made from it (CSV, a group's current sessions).
    pub fn decode(&self) -> Result<T, ApiError> {
        serde_json::from_slice(&self.json).map_err(|e| ApiError::internal("cached entry unreadable", e))
    }
}

impl<T> CachedJson<Option<T>> {
    /// The body when something was found (`null` is cached too: a miss for a missing thing
    /// costs the database nothing either).
    pub fn found(self) -> Option<CachedJson<T>> {
        (self.json != "null").then(|| CachedJson::from_json(self.json))
    }
}

impl<T> IntoResponse for CachedJson<T> {
    fn into_response(self) -> Response {
        ([(header::CONTENT_TYPE, "application/json")], self.json).into_response()
    }
}

impl ApiState {
    /// Reads `field` of cache `key` through Redis: the entry of the key's current generation if
    /// there is one, else `load`ed and stored. With Redis down, `load` answers (and it is counted).
    pub async fn cached<T, F, Fut>(&self, key: &str, field: &str, load: F) -> Result<CachedJson<T>, ApiError>
    where
        T: Serialize,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        // Versioned by its own generation alone: `{key}@{generation}`.
        self.cached_over(key, &[key.to_owned()], field, load).await
    }

    /// Reads `field` of cache `key` through Redis, for a read that depends on the generations of
    /// `deps`: the entry lives under `key` versioned by all of them, so a change to any one is a
    /// miss; else it is `load`ed and stored. Entries of older versions are never read again and
    /// are deleted by invalidation (single key) or expire with the TTL. With Redis down, `load`
    /// answers (and it is counted).
    pub async fn cached_over<T, F, Fut>(
        &self,
        key: &str,
        deps: &[String],
        field: &str,
        load: F,
    ) -> Result<CachedJson<T>, ApiError>
    where
        T: Serialize,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        let lookups = &metrics().api_cache_lookups;
        let Some(cache) = &self.services.cache else {
            lookups.with_label_values(&["bypass"]).inc();
            return CachedJson::encode(&load().await?);
        };
        let generations = self.services.store.current_generations(deps).await?;
        let versioned = keys::versioned_by(key, &generations);
        if let Some(json) = self.hot.get(&versioned, field) {
            lookups.with_label_values(&["memory"]).inc();
            return Ok(CachedJson::from_json(json));
        }
        match cache.get(&versioned, field).await {
            Ok(Some(json)) => {
                lookups.with_label_values(&["hit"]).inc();
                let json = Bytes::from(json);
                self.hot.put(&versioned, field, json.clone());
                return Ok(CachedJson::from_json(json));
            }
            Ok(None) => {}
            Err(e) => {
                CacheReadDegraded {
                    what: "serving uncached",
                    error: &e,
                }
                .emit();
                return CachedJson::encode(&load().await?);
            }
        }
        lookups.with_label_values(&["miss"]).inc();
        let body = CachedJson::encode(&load().await?)?;
        let ttl = Duration::from_secs(self.config.cache_ttl_secs);
        if let Err(e) = cache.put(&versioned, field, body.json.clone(), ttl).await {
            CacheReadDegraded {
                what: "entry not stored",
                error: &e,
            }
            .emit();
        }
        self.hot.put(&versioned, field, body.json.clone());
        Ok(body)
    }
}
