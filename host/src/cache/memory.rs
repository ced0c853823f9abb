//! In-memory LRU cache with per-entry expiry: the solo tier's cache and the bottom layer
//! under Redis in the team tier.

use super::CacheBackend;
use crate::backend_status::BackendStatus;
use crate::capability_error::{CapResult, CapabilityError};
use lru::LruCache;
use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Entries kept when nothing else is configured.
pub const DEFAULT_CAPACITY: usize = 1000;

struct Entry {
    value: Vec<u8>,
    expires: Instant,
}

/// A bounded LRU map; expired entries are dropped on access.
pub struct MemoryCache {
    entries: Mutex<LruCache<String, Entry>>,
    capacity: usize,
    /// The epoch whose entries it holds (see [`MemoryCache::enter_epoch`]).
    epoch: AtomicU64,
}

impl MemoryCache {
    /// A cache holding at most `capacity` entries (at least one).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            entries: Mutex::new(LruCache::new(
                NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN),
            )),
            capacity,
            epoch: AtomicU64::new(0),
        }
    }

    /// Empties the cache if `epoch` is newer than the one its entries belong to. The team
    /// tier's memory layer uses the Redis link's outage count, so one outage's entries are
    /// never served in the next.
    pub fn enter_epoch(&self, epoch: u64) {
        if self.epoch.load(Ordering::SeqCst) >= epoch {
            return;
        }
        if let Ok(mut cache) = self.lock()
            && self.epoch.load(Ordering::SeqCst) < epoch
        {
            cache.clear();
            self.epoch.store(epoch, Ordering::SeqCst);
        }
    }

    /// A live value, dropping an expired one.
    fn lookup(&self, key: &str) -> CapResult<Option<Vec<u8>>> {
        let mut cache = self.lock()?;

        let live = match cache.get(key) {
            Some(e) if e.expires > Instant::now() => return Ok(Some(e.value.clone())),
            Some(_) => false,
            None => return Ok(None),
        };
        if !live {
            cache.pop(key);
        }
        Ok(None)
    }

    fn lock(&self) -> CapResult<std::sync::MutexGuard<'_, LruCache<String, Entry>>> {
        self.entries
            .lock()
            .map_err(|_| CapabilityError::Internal("memory cache lock poisoned".into()))
    }
}

#[async_trait::async_trait]
impl CacheBackend for MemoryCache {
    async fn status(&self) -> BackendStatus {
        let len = self.lock().map(|c| c.len()).unwrap_or(0);
        BackendStatus::healthy("memory", format!("{len}/{} entries", self.capacity))
    }

    async fn get(&self, key: &str) -> CapResult<Option<Vec<u8>>> {
        let found = self.lookup(key)?;
        let result = if found.is_some() { "hit" } else { "miss" };
        metrics::counter!("marcus_cache_requests_total", "layer" => "memory", "result" => result)
            .increment(1);
        Ok(found)
    }

    async fn set(&self, key: &str, value: Vec<u8>, ttl_seconds: u32) -> CapResult<()> {
        let expires = Instant::now() + Duration::from_secs(ttl_seconds.max(1) as u64);
        self.lock()?.put(key.to_string(), Entry { value, expires });
        Ok(())
    }

    async fn add(&self, key: &str, value: Vec<u8>, ttl_seconds: u32) -> CapResult<bool> {
        let now = Instant::now();
        let mut cache = self.lock()?;
        if cache.get(key).is_some_and(|e| e.expires > now) {
            return Ok(false);
        }
        let expires = now + Duration::from_secs(ttl_seconds.max(1) as u64);
        cache.put(key.to_string(), Entry { value, expires });
        Ok(true)
    }

    async fn delete(&self, key: &str) -> CapResult<bool> {
        let mut cache = self.lock()?;
        Ok(match cache.pop(key) {
            Some(e) => e.expires > Instant::now(),
            None => false,
        })
    }

    async fn clear(&self, prefix: &str) -> CapResult<()> {
        let mut cache = self.lock()?;
        let doomed: Vec<String> = cache
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(k, _)| k.clone())
            .collect();
        for k in doomed {
            cache.pop(&k);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn empty_value_is_a_hit_and_lru_evicts_oldest() {
        let c = MemoryCache::new(2);
        c.set("a", vec![], 60).await.unwrap();
        assert_eq!(c.get("a").await.unwrap(), Some(vec![]));
        c.set("b", b"2".to_vec(), 60).await.unwrap();
        c.get("a").await.unwrap();
        c.set("c", b"3".to_vec(), 60).await.unwrap();
        assert_eq!(c.get("b").await.unwrap(), None, "b was least recently used");
        assert!(c.get("a").await.unwrap().is_some());
    }

    #[tokio::test]
    async fn a_newer_epoch_starts_empty_and_an_older_one_changes_nothing() {
        let c = MemoryCache::new(8);
        c.set("old", b"1".to_vec(), 60).await.unwrap();
        c.enter_epoch(0);
        assert!(c.get("old").await.unwrap().is_some());
        c.enter_epoch(1);
        assert_eq!(c.get("old").await.unwrap(), None);
        c.set("new", b"2".to_vec(), 60).await.unwrap();
        c.enter_epoch(1);
        c.enter_epoch(0);
        assert!(c.get("new").await.unwrap().is_some());
    }

    #[tokio::test]
    async fn add_stores_only_over_a_missing_or_expired_value() {
        let c = MemoryCache::new(8);
        assert!(c.add("k", b"1".to_vec(), 60).await.unwrap());
        assert!(!c.add("k", b"2".to_vec(), 60).await.unwrap());
        assert_eq!(c.get("k").await.unwrap(), Some(b"1".to_vec()));
        c.delete("k").await.unwrap();
        assert!(c.add("k", b"3".to_vec(), 60).await.unwrap());
    }
}
