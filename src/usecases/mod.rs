//! One use case per action that changes what rollcall knows (enrol, erase, rename, register a
//! camera, change a group, a membership or a schedule). The CLI, the API and the pipeline all
//! call these, so every front end writes the same audit entry, moves the same cache
//! generations and announces the same gallery change.

pub mod cameras;
pub mod corrections;
pub mod groups;
pub mod people;
pub mod review;
pub mod webhooks;

use crate::cache::{Cache, RedisConfig};
use crate::control::{GalleryChange, NatsConfig};
use crate::store::{Store, StoreConfig};

/// What an action needs: the store, and when configured the cache whose superseded entries it
/// drops and the NATS connection it announces gallery changes on.
#[derive(Clone)]
pub struct Services {
    pub store: Store,
    pub cache: Option<Cache>,
    pub nats: Option<crate::control::Nats>,
}

impl Services {
    /// Connects to the store (opened as it is), and to Redis and NATS when their URLs are set.
    /// A wrong NATS address fails here, before anything is changed.
    pub async fn connect(store: &StoreConfig, redis: &RedisConfig, nats: &NatsConfig) -> anyhow::Result<Services> {
        let store = Store::open(&store.url, store.max_connections).await?;
        let cache = redis.url.as_deref().map(Cache::connect).transpose()?;
        let nats = crate::control::Nats::connect(nats).await?;
        Ok(Services { store, cache, nats })
    }

    /// Takes the committed `generations` into this process's mirror (its next read sees them
    /// without waiting for their notification) and drops the cache entries they superseded.
    /// Readers are already safe (the keys are versioned), so a failure only leaves old entries
    /// to expire.
    pub async fn invalidate(&self, generations: &[(String, i64)]) {
        self.store.observe_generations(generations);
        if let Some(cache) = &self.cache
            && let Err(e) = cache.invalidate(generations).await
        {
            // Not the projector's `CacheDegraded`: its counter is about committed batches.
            tracing::warn!(error = %e, keys = generations.len(), "cache degraded: old entries left to expire");
        }
    }

    /// Tells every recognizer to reload its gallery. A lost message is caught up by their
    /// periodic reload, so a failure is logged, not returned.
    pub async fn announce(&self, change: GalleryChange) {
        if let Some(nats) = &self.nats
            && let Err(e) = nats.publish_gallery_change(&change).await
        {
            tracing::warn!(error = %e, "gallery change not broadcast; recognizers reload periodically");
        }
    }
}

/// Who the audit log names for changes made from the command line.
pub fn cli_actor() -> String {
    format!("cli:{}", std::env::var("USER").unwrap_or_else(|_| "unknown".into()))
}
