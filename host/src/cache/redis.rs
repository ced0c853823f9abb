//! Redis cache: the shared layer every host of a team sees. Keys live under the
//! installation's prefix (`<prefix>cache:<key>`); values are stored as the bytes given,
//! with the TTL as a Redis expiry.

use super::CacheBackend;
use crate::backend_status::BackendStatus;
use crate::capability_error::{CapResult, CapabilityError};
use crate::redis_link::RedisLink;
use std::sync::Arc;

/// Keys deleted per round trip when clearing.
const CLEAR_BATCH: usize = 500;

/// The Redis cache backend.
pub struct RedisCache {
    link: Arc<RedisLink>,
}

fn down() -> CapabilityError {
    CapabilityError::Unavailable("redis is not answering".into())
}

impl RedisCache {
    /// A cache on `link`.
    pub fn new(link: Arc<RedisLink>) -> Self {
        Self { link }
    }

    fn key(&self, key: &str) -> String {
        self.link.key(&format!("cache:{key}"))
    }

    /// Remembers that `key` changed while Redis did not take it (see `RedisLink`).
    pub async fn invalidate_when_back(&self, key: &str) {
        self.link.invalidate_when_back(self.key(key)).await;
    }

    /// Remembers that the whole cache must go when Redis is back.
    pub fn invalidate_everything_when_back(&self) {
        self.link.invalidate_everything_when_back();
    }

    /// How many outages the link has been through.
    pub fn outages(&self) -> u64 {
        self.link.outages()
    }
}

#[async_trait::async_trait]
impl CacheBackend for RedisCache {
    async fn status(&self) -> BackendStatus {
        self.link.status("cache")
    }

    async fn get(&self, key: &str) -> CapResult<Option<Vec<u8>>> {
        let mut conn = self.link.connection().ok_or_else(down)?;
        let k = self.key(key);
        self.link
            .run(redis::cmd("GET").arg(&k).query_async(&mut conn))
            .await
    }

    async fn set(&self, key: &str, value: Vec<u8>, ttl_seconds: u32) -> CapResult<()> {
        let mut conn = self.link.connection().ok_or_else(down)?;
        let k = self.key(key);
        self.link
            .run(
                redis::cmd("SET")
                    .arg(&k)
                    .arg(value)
                    .arg("EX")
                    .arg(ttl_seconds.max(1))
                    .query_async::<()>(&mut conn),
            )
            .await
    }

    async fn add(&self, key: &str, value: Vec<u8>, ttl_seconds: u32) -> CapResult<bool> {
        let mut conn = self.link.connection().ok_or_else(down)?;
        let k = self.key(key);
        let stored: Option<String> = self
            .link
            .run(
                redis::cmd("SET")
                    .arg(&k)
                    .arg(value)
                    .arg("NX")
                    .arg("EX")
                    .arg(ttl_seconds.max(1))
                    .query_async(&mut conn),
            )
            .await?;
        Ok(stored.is_some())
    }

    async fn delete(&self, key: &str) -> CapResult<bool> {
        let mut conn = self.link.connection().ok_or_else(down)?;
        let k = self.key(key);
        let n: i64 = self
            .link
            .run(redis::cmd("DEL").arg(&k).query_async(&mut conn))
            .await?;
        Ok(n > 0)
    }

    async fn clear(&self, prefix: &str) -> CapResult<()> {
        let mut conn = self.link.connection().ok_or_else(down)?;
        // Prefixes are tenant names and `/`, which hold no glob character.
        let pattern = format!("{}*", self.key(prefix));
        let mut cursor: u64 = 0;
        loop {
            let (next, keys): (u64, Vec<String>) = self
                .link
                .run(
                    redis::cmd("SCAN")
                        .arg(cursor)
                        .arg("MATCH")
                        .arg(&pattern)
                        .arg("COUNT")
                        .arg(CLEAR_BATCH)
                        .query_async(&mut conn),
                )
                .await?;
            if !keys.is_empty() {
                self.link
                    .run(
                        redis::cmd("UNLINK")
                            .arg(&keys)
                            .query_async::<i64>(&mut conn),
                    )
                    .await?;
            }
            if next == 0 {
                return Ok(());
            }
            cursor = next;
        }
    }
}
