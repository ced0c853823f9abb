//! The app component run inside this process on a store, without a listener: a command that
//! must read the board when no server runs (`marcus status`) asks it the same routes a
//! server answers, so one rule set computes the figures wherever they are shown.

use crate::auth::mode::AuthMode;
use crate::backends::storage_choice::StorageChoice;
use crate::cache::memory::{DEFAULT_CAPACITY, MemoryCache};
use crate::engine::{self, EngineLimits, EpochTicker};
use crate::guest_call::GuestRunner;
use crate::platform::{self, Platform};
use crate::push::PushSettings;
use crate::realtime::in_process::InProcessRealtime;
use crate::slots::Slots;
use crate::storage::StorageBackend;
use marcus_identity::principal::Principal;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Requests run at once (the command asks one at a time; a little room costs nothing).
const SLOTS: u32 = 2;
/// Memory per request, as `marcus serve` gives by default.
const MEMORY_LIMIT_BYTES: usize = 128 * 1024 * 1024;
/// How long one request may run, as `marcus serve` allows by default.
const DEADLINE: Duration = Duration::from_secs(30);

/// The app on one store, answering requests made in this process.
pub struct InProcessApp {
    runner: Arc<GuestRunner>,
    storage: Arc<dyn StorageBackend>,
    _ticker: EpochTicker,
}

impl InProcessApp {
    /// Opens `store`, which must already be a Marcus database (nothing is created), and
    /// loads the app, its compiled code cached in `data_dir` as `marcus serve` caches it.
    pub async fn open(store: &StorageChoice, data_dir: &Path) -> anyhow::Result<Self> {
        let storage = store.open_source().await?;
        let platform = Arc::new(Platform {
            storage: storage.clone(),
            cache: Arc::new(MemoryCache::new(DEFAULT_CAPACITY)),
            realtime: Arc::new(InProcessRealtime::default()),
            push: PushSettings { websocket: false },
            facts: vec![
                ("version".to_string(), env!("CARGO_PKG_VERSION").to_string()),
                (
                    "instance-id".to_string(),
                    format!("cli-{}", std::process::id()),
                ),
                (
                    crate::serve::AUTH_FACT.to_string(),
                    AuthMode::Local.as_str().to_string(),
                ),
            ],
            kubernetes: platform::detect_kubernetes(),
            webhook_allow: Arc::default(),
            // The command's reads never wait on a realtime channel.
            waiters: Arc::new(tokio::sync::Semaphore::new(1)),
            quotas: Arc::new(crate::tenants::quotas::TenantQuotas::new(Arc::new(
                crate::tenants::served::ServedTenants::new(storage.clone()),
            ))),
        });
        let engine = engine::build(EngineLimits {
            max_concurrent_requests: SLOTS,
            memory_limit_bytes: MEMORY_LIMIT_BYTES,
        })
        .map_err(|e| anyhow::anyhow!("configuring wasmtime: {e}"))?;
        let ticker = EpochTicker::start(engine.clone());
        let pre = crate::serve::app_instance(&engine, None, data_dir)?;
        Ok(Self {
            runner: Arc::new(GuestRunner {
                pre,
                platform,
                memory_limit_bytes: MEMORY_LIMIT_BYTES,
                deadline: DEADLINE,
                slots: Slots::new(SLOTS as usize),
                body_timeout: DEADLINE,
            }),
            storage,
            _ticker: ticker,
        })
    }

    /// `GET path` as the person at this machine (the local admin a loopback server sees):
    /// the status and the body.
    pub async fn get(&self, path: &str) -> (u16, bytes::Bytes) {
        let response = self
            .runner
            .call_as(
                hyper::Method::GET,
                path,
                "cli-read",
                Principal::local_admin(),
            )
            .await;
        let status = response.status().as_u16();
        (status, crate::guest_call::body_bytes(response).await)
    }

    /// Closes the store.
    pub async fn close(self) {
        self.storage.close().await;
    }
}
