//! Which tenants are served right now, as every request's authentication asks: the tenant
//! records, read from storage and kept for a few seconds, so a busy server does not read
//! the registry on every request. A tenant disabled on this host is refused at once (its
//! entry is dropped); on other hosts of a team within [`FRESH_FOR`].

use super::registry;
use crate::storage::StorageBackend;
use marcus_identity::tenant::TenantRecord;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a read tenant record is trusted.
pub const FRESH_FOR: Duration = Duration::from_secs(5);

/// The cached registry of one host.
pub struct ServedTenants {
    storage: Arc<dyn StorageBackend>,
    known: Mutex<HashMap<String, (Option<TenantRecord>, Instant)>>,
}

impl ServedTenants {
    /// A cache over `storage`'s registry.
    pub fn new(storage: Arc<dyn StorageBackend>) -> Self {
        Self {
            storage,
            known: Mutex::new(HashMap::new()),
        }
    }

    /// The record of `tenant` (the default tenant always has one), at most [`FRESH_FOR`]
    /// old; an error when the registry cannot be read.
    pub async fn record(&self, tenant: &str) -> anyhow::Result<Option<TenantRecord>> {
        if let Ok(known) = self.known.lock()
            && let Some((record, read)) = known.get(tenant)
            && read.elapsed() < FRESH_FOR
        {
            return Ok(record.clone());
        }
        let record = registry::get(&*self.storage, tenant).await?;
        if let Ok(mut known) = self.known.lock() {
            if known.len() > 10_000 {
                known.clear();
            }
            known.insert(tenant.to_string(), (record.clone(), Instant::now()));
        }
        Ok(record)
    }

    /// Whether requests of `tenant` are served (`Err` completes "the credential's …").
    pub async fn check(&self, tenant: &str) -> anyhow::Result<Result<(), String>> {
        let record = self.record(tenant).await?;
        Ok(marcus_identity::tenant::check_served(
            tenant,
            record.as_ref(),
        ))
    }

    /// Forgets what was read about `tenant`, after this host changed it.
    pub fn forget(&self, tenant: &str) {
        if let Ok(mut known) = self.known.lock() {
            known.remove(tenant);
        }
    }
}
