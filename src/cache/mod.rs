//! The Redis read cache (fred): versioned keys, and the invalidation the projector does after
//! each committed batch. Redis being down slows nothing and loses nothing: it is counted.

mod config;

pub use config::RedisConfig;
pub mod keys;

use std::time::Duration;

use fred::prelude::{ClientLike, Config, HashesInterface, KeysInterface, ReconnectPolicy};

#[derive(Clone)]
pub struct Cache {
    client: fred::clients::Client,
}

impl Cache {
    /// Starts connecting in the background (reconnecting with backoff) and returns at once: a
    /// stage must run while Redis is down.
    pub fn connect(url: &str) -> anyhow::Result<Cache> {
        let config = Config::from_url(url).map_err(|e| anyhow::anyhow!("redis url {url}: {e}"))?;
        let client = fred::types::Builder::from_config(config)
            .with_performance_config(|p| p.default_command_timeout = Duration::from_secs(2))
            .with_connection_config(|c| {
                c.connection_timeout = Duration::from_secs(2);
                c.max_command_attempts = 1;
            })
            .set_policy(ReconnectPolicy::new_exponential(0, 100, 5_000, 2))
            .build()
            .map_err(|e| anyhow::anyhow!("redis client: {e}"))?;
        client.connect();
        Ok(Cache { client })
    }

    /// Deletes the entries of the generations before `changed` (and any unversioned entry).
    /// Correctness does not depend on it: readers use the new generation's key.
    pub async fn invalidate(&self, changed: &[(String, i64)]) -> Result<usize, fred::error::Error> {
        if changed.is_empty() {
            return Ok(0);
        }
        let doomed: Vec<String> = changed
            .iter()
            .flat_map(|(key, generation)| [keys::versioned(key, generation - 1), key.clone()])
            .collect();
        let _deleted: i64 = self.client.del(doomed).await?;
        Ok(changed.len())
    }

    /// One cached entry: `field` of the hash `versioned_key` (one hash per key and generation, so
    /// deleting the hash drops every page cached under it).
    pub async fn get(&self, versioned_key: &str, field: &str) -> Result<Option<String>, fred::error::Error> {
        self.client.hget(versioned_key, field).await
    }

    /// Stores an entry and (re)sets the hash's time to live.
    pub async fn put(
        &self,
        versioned_key: &str,
        field: &str,
        value: bytes::Bytes,
        ttl: Duration,
    ) -> Result<(), fred::error::Error> {
        let pipeline = self.client.pipeline();
        let _: () = pipeline.hset(versioned_key, (field, value)).await?;
        let _: () = pipeline
            .expire(versioned_key, ttl.as_secs().max(1) as i64, None)
            .await?;
        let _: Vec<fred::types::Value> = pipeline.all().await?;
        Ok(())
    }

    /// Deletes every generation of each key in `keys`, and every key under each of
    /// `prefixes` (for an erasure: nothing about the person may linger), in one pass over the
    /// keyspace.
    pub async fn purge(&self, keys: &[String], prefixes: &[String]) -> Result<usize, fred::error::Error> {
        let exact: std::collections::HashSet<&str> = keys.iter().map(String::as_str).collect();
        let doomed_key = |key: &str| {
            let family = key.split_once('@').map_or(key, |(family, _)| family);
            exact.contains(family) || prefixes.iter().any(|p| key.starts_with(p.as_str()))
        };
        let mut deleted = 0;
        let mut cursor = "0".to_owned();
        loop {
            let (next, found): (String, Vec<String>) = self
                .client
                .custom(
                    fred::types::CustomCommand::new_static("SCAN", None, false),
                    vec![
                        cursor.clone(),
                        "MATCH".into(),
                        format!("{}:*", keys::PREFIX),
                        "COUNT".into(),
                        "1000".into(),
                    ],
                )
                .await?;
            let doomed: Vec<String> = found.into_iter().filter(|k| doomed_key(k)).collect();
            if !doomed.is_empty() {
                deleted += self.client.del::<i64, _>(doomed).await?;
            }
            if next == "0" {
                break;
            }
            cursor = next;
        }
        Ok(deleted as usize)
    }

    /// Whether Redis answers now.
    pub async fn ping(&self) -> bool {
        self.client.ping::<String>(None).await.is_ok()
    }

    pub fn client(&self) -> &fred::clients::Client {
        &self.client
    }
}
