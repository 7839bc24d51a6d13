//! The API process's own layer of cached bodies in front of Redis: the entry of a key's current
//! version, kept in memory so that a hit costs no round trip at all. Entries are named exactly
//! as in Redis (versioned key and field), so a change to the data, which moves the version on,
//! makes them unreachable just as it does Redis's. Bounded by bytes (least recently used go
//! first) and emptied every `api.hot_cache_secs`, so nothing superseded, an erased person's
//! data included, stays in memory longer than that.

use bytes::Bytes;
use quick_cache::Weighter;
use quick_cache::sync::Cache;

/// Bodies by `{versioned key}\n{field}`.
pub struct HotBodies(Option<Cache<String, Bytes, ByLength>>);

#[derive(Debug, Clone)]
struct ByLength;

impl Weighter<String, Bytes> for ByLength {
    fn weight(&self, key: &String, body: &Bytes) -> u64 {
        (key.len() + body.len()) as u64
    }
}

impl HotBodies {
    /// A layer of at most `max_bytes` (0: none, every read goes to Redis).
    pub fn new(max_bytes: u64) -> Self {
        if max_bytes == 0 {
            return Self(None);
        }
        // A guess of the number of entries, for the table's first size: 16 KB bodies.
        let estimated = usize::try_from(max_bytes / 16_384).unwrap_or(usize::MAX).max(16);
        Self(Some(Cache::with_weighter(estimated, max_bytes, ByLength)))
    }

    pub fn get(&self, versioned: &str, field: &str) -> Option<Bytes> {
        self.0.as_ref()?.get(&name(versioned, field))
    }

    pub fn put(&self, versioned: &str, field: &str, body: Bytes) {
        if let Some(cache) = &self.0 {
            cache.insert(name(versioned, field), body);
        }
    }

    pub fn clear(&self) {
        if let Some(cache) = &self.0 {
            cache.clear();
        }
    }
}

impl std::fmt::Debug for HotBodies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (entries, bytes) = self.0.as_ref().map_or((0, 0), |c| (c.len(), c.weight()));
        f.debug_struct("HotBodies")
            .field("entries", &entries)
            .field("bytes", &bytes)
            .finish()
    }
}

fn name(versioned: &str, field: &str) -> String {
    format!("{versioned}\n{field}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_found_by_its_version_and_field_only() {
        let hot = HotBodies::new(1 << 20);
        hot.put("k@3", "page", Bytes::from_static(b"[1]"));
        assert_eq!(hot.get("k@3", "page").as_deref(), Some(&b"[1]"[..]));
        assert_eq!(hot.get("k@4", "page"), None, "another version");
        assert_eq!(hot.get("k@3", "other"), None);
        hot.clear();
        assert_eq!(hot.get("k@3", "page"), None);
        let none = HotBodies::new(0);
        none.put("k@3", "page", Bytes::from_static(b"[1]"));
        assert_eq!(none.get("k@3", "page"), None);
    }

    #[test]
    fn it_stays_within_its_bytes() {
        let hot = HotBodies::new(64 * 1024);
        for i in 0..100 {
            hot.put(&format!("k@{i}"), "f", Bytes::from(vec![b'x'; 4096]));
        }
        let kept = (0..100).filter(|i| hot.get(&format!("k@{i}"), "f").is_some()).count();
        assert!(kept > 0 && kept <= 16, "{kept} entries of 4 KB in 64 KB");
    }
}
