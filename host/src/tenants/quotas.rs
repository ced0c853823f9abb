//! Each tenant's quotas, enforced by the host for every request of the tenant whatever the
//! app does: projects and tasks it may hold and megabytes it may store (a write that would
//! pass one is refused, `403 quota_exceeded`, and nothing is written), and requests per
//! minute over all its credentials (`429 tenant_rate_limited`). A tenant without quotas
//! costs one cached registry read per request and no storage call.
//!
//! Counts are read when a write creates projects or tasks; stored bytes are read at most
//! every [`SIZE_FRESH_FOR`], so a burst of writes may overshoot the byte quota by what it
//! writes in that time. The request budget is shared by every host through Redis in the team
//! tier (one-minute windows), and kept by each host without it.

use super::served::ServedTenants;
use crate::capability_error::{CapResult, CapabilityError};
use crate::storage::{Expect, StorageBackend, Write};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use marcus_core::collections::{PROJECTS, TASKS};
use marcus_identity::tenant::Quotas;
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a tenant's stored-bytes figure is trusted.
pub const SIZE_FRESH_FOR: Duration = Duration::from_secs(10);

/// One megabyte, as quotas count them.
const MB: u64 = 1_000_000;

/// The quota checks of one host.
pub struct TenantQuotas {
    served: Arc<ServedTenants>,
    sizes: Mutex<HashMap<String, (u64, Instant)>>,
    budgets: Mutex<HashMap<String, (u64, Arc<DefaultDirectRateLimiter>)>>,
}

impl TenantQuotas {
    /// Checks over the registry `served` reads.
    pub fn new(served: Arc<ServedTenants>) -> Self {
        Self {
            served,
            sizes: Mutex::new(HashMap::new()),
            budgets: Mutex::new(HashMap::new()),
        }
    }

    async fn quotas(&self, tenant: &str) -> CapResult<Quotas> {
        match self.served.record(tenant).await {
            Ok(record) => Ok(record.map(|r| r.quotas).unwrap_or_default()),
            Err(e) => Err(CapabilityError::Unavailable(format!(
                "the tenant registry cannot be read: {e}"
            ))),
        }
    }

    /// Refuses `writes` of `tenant` that would take it past a quota; `Ok` when they fit.
    pub async fn check_writes(
        &self,
        storage: &dyn StorageBackend,
        tenant: &str,
        writes: &[Write],
    ) -> CapResult<()> {
        let quotas = self.quotas(tenant).await?;
        for (collection, limit, what) in [
            (PROJECTS, quotas.projects, "projects"),
            (TASKS, quotas.tasks, "tasks"),
        ] {
            let Some(limit) = limit else { continue };
            // The board creates its records create-only; an update never adds one.
            let added = writes
                .iter()
                .filter(|w| w.collection == collection && w.expect == Expect::Absent)
                .count() as u64;
            if added == 0 {
                continue;
            }
            let held = storage.count(tenant, collection, &[]).await?;
            if held + added > limit {
                return Err(CapabilityError::QuotaExceeded(format!(
                    "tenant {tenant:?} may hold {limit} {what}; it holds {held} and this would add {added}"
                )));
            }
        }
        if let Some(limit_mb) = quotas.stored_mb {
            let adding: u64 = writes.iter().map(|w| w.data.len() as u64).sum();
            let stored = self.stored_bytes(storage, tenant).await?;
            if stored + adding > limit_mb.saturating_mul(MB) {
                return Err(CapabilityError::QuotaExceeded(format!(
                    "tenant {tenant:?} may store {limit_mb} MB; it stores {:.1} MB",
                    stored as f64 / MB as f64
                )));
            }
            if let Ok(mut sizes) = self.sizes.lock()
                && let Some((bytes, _)) = sizes.get_mut(tenant)
            {
                *bytes += adding;
            }
        }
        Ok(())
    }

    async fn stored_bytes(&self, storage: &dyn StorageBackend, tenant: &str) -> CapResult<u64> {
        if let Ok(sizes) = self.sizes.lock()
            && let Some((bytes, read)) = sizes.get(tenant)
            && read.elapsed() < SIZE_FRESH_FOR
        {
            return Ok(*bytes);
        }
        let bytes = storage.stats(tenant).await?.size_bytes;
        if let Ok(mut sizes) = self.sizes.lock() {
            sizes.insert(tenant.to_string(), (bytes, Instant::now()));
        }
        Ok(bytes)
    }

    /// `tenant`'s requests-per-minute quota, if it has one.
    pub async fn requests_per_minute(&self, tenant: &str) -> CapResult<Option<u32>> {
        Ok(self
            .quotas(tenant)
            .await?
            .requests_per_minute
            .map(|n| n.min(u64::from(u32::MAX)) as u32))
    }

    /// Spends one request of `tenant`'s budget of `per_minute` kept by this host (when no
    /// Redis shares it); `Err(seconds to wait)` when it is spent.
    pub fn spend_here(&self, tenant: &str, per_minute: u32) -> CapResult<Result<(), u64>> {
        let Some(n) = NonZeroU32::new(per_minute) else {
            return Ok(Err(60));
        };
        let limiter = {
            let mut budgets = self
                .budgets
                .lock()
                .map_err(|_| CapabilityError::Internal("quota budgets poisoned".into()))?;
            let fresh = || {
                (
                    u64::from(per_minute),
                    Arc::new(RateLimiter::direct(Quota::per_minute(n))),
                )
            };
            let entry = budgets.entry(tenant.to_string()).or_insert_with(fresh);
            // A changed quota starts a fresh budget.
            if entry.0 != u64::from(per_minute) {
                *entry = fresh();
            }
            entry.1.clone()
        };
        Ok(match limiter.check() {
            Ok(()) => Ok(()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                Err(wait.as_secs().max(1))
            }
        })
    }
}
