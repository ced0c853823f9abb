//! `marcus:platform/cache` on top of [`crate::cache::CacheBackend`], every key in the
//! request's tenant.

use super::bindings::marcus::platform::cache as wit;
use super::bindings::marcus::platform::types::Error;
use super::{PlatformView, to_wit};
use crate::cache::DEFAULT_TTL_SECONDS;
use marcus_identity::tenant::scoped;

impl wit::Host for PlatformView {
    async fn get(&mut self, key: String) -> Result<Option<Vec<u8>>, Error> {
        self.record_call("cache", "get");
        let key = scoped(&self.tenant()?, &key);
        self.platform.cache.get(&key).await.map_err(to_wit)
    }

    async fn set(
        &mut self,
        key: String,
        value: Vec<u8>,
        ttl_seconds: Option<u32>,
    ) -> Result<(), Error> {
        self.record_call("cache", "set");
        let key = scoped(&self.tenant()?, &key);
        let ttl = ttl_seconds.unwrap_or(DEFAULT_TTL_SECONDS);
        self.platform
            .cache
            .set(&key, value, ttl)
            .await
            .map_err(to_wit)
    }

    async fn add(
        &mut self,
        key: String,
        value: Vec<u8>,
        ttl_seconds: Option<u32>,
    ) -> Result<bool, Error> {
        self.record_call("cache", "add");
        let key = scoped(&self.tenant()?, &key);
        let ttl = ttl_seconds.unwrap_or(DEFAULT_TTL_SECONDS);
        self.platform
            .cache
            .add(&key, value, ttl)
            .await
            .map_err(to_wit)
    }

    async fn delete(&mut self, key: String) -> Result<bool, Error> {
        self.record_call("cache", "delete");
        let key = scoped(&self.tenant()?, &key);
        self.platform.cache.delete(&key).await.map_err(to_wit)
    }

    async fn clear(&mut self) -> Result<(), Error> {
        self.record_call("cache", "clear");
        let prefix = scoped(&self.tenant()?, "");
        self.platform.cache.clear(&prefix).await.map_err(to_wit)
    }
}
