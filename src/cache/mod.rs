//! The Redis read cache (fred): versioned keys, and the invalidation the projector does after
//! each committed batch. Redis being down slows nothing and loses nothing: it is counted.

pub mod keys;

use std::time::Duration;

use fred::prelude::{ClientLike, Config, KeysInterface, ReconnectPolicy};

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

    pub fn client(&self) -> &fred::clients::Client {
        &self.client
    }
}
