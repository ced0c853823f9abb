//! The cache capability: bytes with a TTL, best effort.

pub mod layered;
pub mod memory;
pub mod pending;
pub mod redis;

use crate::backend_status::BackendStatus;
use crate::capability_error::CapResult;

/// TTL used when the caller gives none.
pub const DEFAULT_TTL_SECONDS: u32 = 300;

/// A cache backend. A present value is a hit even when empty.
#[async_trait::async_trait]
pub trait CacheBackend: Send + Sync {
    /// Name and health.
    async fn status(&self) -> BackendStatus;
    /// Reads a live value.
    async fn get(&self, key: &str) -> CapResult<Option<Vec<u8>>>;
    /// Stores a value for `ttl_seconds`.
    async fn set(&self, key: &str, value: Vec<u8>, ttl_seconds: u32) -> CapResult<()>;
    /// Stores a value only when the key holds no live one; true when this call stored it.
    async fn add(&self, key: &str, value: Vec<u8>, ttl_seconds: u32) -> CapResult<bool>;
    /// Removes a value; false when absent.
    async fn delete(&self, key: &str) -> CapResult<bool>;
    /// Removes every value whose key starts with `prefix` (a tenant's keys: clearing one
    /// tenant's cache never touches another's).
    async fn clear(&self, prefix: &str) -> CapResult<()>;
}
