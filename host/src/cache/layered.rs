//! The team tier's cache: Redis above the in-memory cache.
//!
//! While Redis answers it is the source of truth shared by every host: a hit is also kept in
//! memory (with the time it has left), and a miss is a miss — this host's memory is not
//! consulted, so a key another host deleted is never served stale from here. Writes go to
//! both layers, Redis best-effort. When Redis stops answering, reads and writes use memory
//! alone and never fail; the link's probe switches Redis back in when it answers again.

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
}

#[async_trait::async_trait]
impl CacheBackend for LayeredCache {
    async fn status(&self) -> BackendStatus {
        let mut status = self.redis.status().await;
        status.detail = if status.healthy {
            format!("{} above memory", status.detail)
        } else {
            format!("{}; serving from memory", status.detail)
        };
        status
    }

    async fn get(&self, key: &str) -> CapResult<Option<Vec<u8>>> {
        match self.redis.get_hit(key).await {
            Ok(Some(hit)) => {
                metrics::counter!("marcus_cache_requests_total", "layer" => "redis", "result" => "hit")
                    .increment(1);
                let ttl_seconds = hit
                    .ttl_ms
                    .map(|ms| ms.div_ceil(1000).min(u32::MAX as u64) as u32)
                    .unwrap_or(super::DEFAULT_TTL_SECONDS);
                let _ = self.memory.set(key, hit.value.clone(), ttl_seconds).await;
                Ok(Some(hit.value))
            }
            Ok(None) => {
                metrics::counter!("marcus_cache_requests_total", "layer" => "redis", "result" => "miss")
                    .increment(1);
                Ok(None)
            }
            Err(_) => self.memory.get(key).await,
        }
    }

    async fn set(&self, key: &str, value: Vec<u8>, ttl_seconds: u32) -> CapResult<()> {
        let _ = self.redis.set(key, value.clone(), ttl_seconds).await;
        self.memory.set(key, value, ttl_seconds).await
    }

    /// Redis decides for every host; while it is down, this host's memory decides alone.
    async fn add(&self, key: &str, value: Vec<u8>, ttl_seconds: u32) -> CapResult<bool> {
        match self.redis.add(key, value.clone(), ttl_seconds).await {
            Ok(true) => {
                self.memory.set(key, value, ttl_seconds).await?;
                Ok(true)
            }
            Ok(false) => Ok(false),
            Err(_) => self.memory.add(key, value, ttl_seconds).await,
        }
    }

    async fn delete(&self, key: &str) -> CapResult<bool> {
        let in_redis = self.redis.delete(key).await.unwrap_or(false);
        let in_memory = self.memory.delete(key).await?;
        Ok(in_redis || in_memory)
    }

    async fn clear(&self) -> CapResult<()> {
        let _ = self.redis.clear().await;
        self.memory.clear().await
    }
}
