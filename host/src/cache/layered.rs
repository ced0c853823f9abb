//! The team tier's cache: Redis above the in-memory cache.
//!
//! While Redis answers it is the only layer: every host reads and writes the same keys, so
//! a key another host changed or deleted is never served stale from here. When Redis stops
//! answering, reads and writes use this host's memory and never fail; memory then holds
//! only what this host wrote during this outage (it is emptied when an outage begins, since
//! anything older may have been changed by another host meanwhile). Every key written while
//! Redis is away is deleted from Redis before this host uses it again (`RedisLink`), so the
//! first read after Redis returns never sees a value that a write during the outage replaced.

use super::CacheBackend;
use super::memory::MemoryCache;
use super::redis::RedisCache;
use crate::backend_status::BackendStatus;
use crate::capability_error::CapResult;
use std::sync::Arc;

/// Redis over memory.
pub struct LayeredCache {
    redis: RedisCache,
    memory: Arc<MemoryCache>,
}

impl LayeredCache {
    /// Stacks `redis` on `memory`.
    pub fn new(redis: RedisCache, memory: Arc<MemoryCache>) -> Self {
        Self { redis, memory }
    }

    /// The memory layer for the current outage (emptied when a new one began).
    fn memory(&self) -> &MemoryCache {
        self.memory.enter_epoch(self.redis.outages());
        &self.memory
    }
}

#[async_trait::async_trait]
impl CacheBackend for LayeredCache {
    async fn status(&self) -> BackendStatus {
        let mut status = self.redis.status().await;
        status.detail = if status.healthy {
            format!("{} above memory", status.detail)
        } else {
            format!(
                "{}; serving this host's own writes from memory",
                status.detail
            )
        };
        status
    }

    async fn get(&self, key: &str) -> CapResult<Option<Vec<u8>>> {
        match self.redis.get(key).await {
            Ok(found) => {
                let result = if found.is_some() { "hit" } else { "miss" };
                metrics::counter!("marcus_cache_requests_total", "layer" => "redis", "result" => result)
                    .increment(1);
                Ok(found)
            }
            Err(_) => self.memory().get(key).await,
        }
    }

    async fn set(&self, key: &str, value: Vec<u8>, ttl_seconds: u32) -> CapResult<()> {
        match self.redis.set(key, value.clone(), ttl_seconds).await {
            Ok(()) => Ok(()),
            Err(_) => {
                self.redis.invalidate_when_back(key).await;
                self.memory().set(key, value, ttl_seconds).await
            }
        }
    }

    /// Redis decides for every host; while it is away, this host's memory decides alone.
    async fn add(&self, key: &str, value: Vec<u8>, ttl_seconds: u32) -> CapResult<bool> {
        match self.redis.add(key, value.clone(), ttl_seconds).await {
            Ok(stored) => Ok(stored),
            Err(_) => {
                self.redis.invalidate_when_back(key).await;
                self.memory().add(key, value, ttl_seconds).await
            }
        }
    }

    async fn delete(&self, key: &str) -> CapResult<bool> {
        match self.redis.delete(key).await {
            Ok(deleted) => Ok(deleted),
            Err(_) => {
                self.redis.invalidate_when_back(key).await;
                self.memory().delete(key).await
            }
        }
    }

    async fn clear(&self, prefix: &str) -> CapResult<()> {
        if self.redis.clear(prefix).await.is_err() {
            self.redis.invalidate_everything_when_back();
        }
        self.memory().clear(prefix).await
    }
}
