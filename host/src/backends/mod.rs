//! The one place configuration becomes backends: which store holds the documents (shared
//! with `marcus migrate`), and which cache and realtime backends serve, with the metering
//! wrappers every backend gets. A part that is not configured is replaced by the solo one,
//! never left out.

pub mod storage_choice;

use crate::cache::CacheBackend;
use crate::cache::layered::LayeredCache;
use crate::cache::memory::MemoryCache;
use crate::cache::redis::RedisCache;
use crate::cli::ServeArgs;
use crate::metrics::Startup;
use crate::realtime::in_process::InProcessRealtime;
use crate::realtime::limited::LimitedRealtime;
use crate::realtime::metered::MeteredRealtime;
use crate::realtime::redis::RedisRealtime;
use crate::realtime::{RETAIN_EVENTS, RETAIN_MS, RealtimeBackend};
use crate::redis_link::RedisLink;
use crate::storage::StorageBackend;
use crate::storage::metered::MeteredStorage;
use std::path::Path;
use std::sync::Arc;
use storage_choice::StorageChoice;

/// The backends a server runs on.
pub struct Backends {
    /// Documents (metered).
    pub storage: Arc<dyn StorageBackend>,
    /// The cache: memory, or Redis in front of memory.
    pub cache: Arc<dyn CacheBackend>,
    /// Events (metered and size-limited).
    pub realtime: Arc<dyn RealtimeBackend>,
    /// Their names, as metrics label them.
    pub labels: Startup,
    /// The Redis link of the team tier (request budgets share it).
    pub redis: Option<Arc<RedisLink>>,
    /// The Redis health probe, kept running as long as the server.
    pub redis_probe: Option<tokio::task::JoinHandle<()>>,
}

/// Opens the backends `args` name; PostgreSQL must answer now, Redis may come later (the
/// cache is served from memory until it does).
pub async fn open(args: &ServeArgs, data_dir: &Path) -> anyhow::Result<Backends> {
    let store = StorageChoice::from_settings(args.database_url.as_deref(), data_dir);
    let storage: Arc<dyn StorageBackend> = Arc::new(MeteredStorage::new(
        store.open(args.sqlite_sync).await?,
        store.label(),
    ));
    let memory = Arc::new(MemoryCache::new(args.cache_entries));
    let Some(url) = &args.redis_url else {
        return Ok(Backends {
            storage,
            cache: memory,
            realtime: Arc::new(MeteredRealtime::new(
                Arc::new(LimitedRealtime::new(Arc::new(InProcessRealtime::default()))),
                "in-process",
            )),
            labels: Startup {
                storage: store.label(),
                realtime: "in-process",
                cache_layers: vec!["memory"],
            },
            redis: None,
            redis_probe: None,
        });
    };
    let link = RedisLink::new(url, &args.redis_prefix)?;
    let probe = link.start().await;
    if !link.is_healthy() {
        tracing::warn!(
            redis = %link.location(),
            "redis is not answering yet; serving the cache from memory until it does"
        );
    }
    Ok(Backends {
        storage,
        cache: Arc::new(LayeredCache::new(RedisCache::new(link.clone()), memory)),
        redis: Some(link.clone()),
        realtime: Arc::new(MeteredRealtime::new(
            Arc::new(LimitedRealtime::new(RedisRealtime::start(
                link,
                RETAIN_EVENTS,
                RETAIN_MS,
            ))),
            "redis",
        )),
        labels: Startup {
            storage: store.label(),
            realtime: "redis",
            cache_layers: vec!["memory", "redis"],
        },
        redis_probe: Some(probe),
    })
}
