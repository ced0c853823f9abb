//! The wasmtime engine: pooling allocator, epoch-based deadlines and the ticker that
//! drives them.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// How often the epoch advances; request deadlines are measured in these ticks.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Bytes of each pooled linear memory kept mapped between requests.
pub const KEEP_RESIDENT_BYTES: usize = 2 * 1024 * 1024;
/// Pool slots decommitted together.
pub const DECOMMIT_BATCH: usize = 16;

/// Limits that shape the engine.
#[derive(Debug, Clone, Copy)]
pub struct EngineLimits {
    /// Requests served at once; also the number of pooled instance slots.
    pub max_concurrent_requests: u32,
    /// Linear memory cap per request, in bytes.
    pub memory_limit_bytes: usize,
}

/// Builds the engine shared by every request.
pub fn build(limits: EngineLimits) -> wasmtime::Result<Engine> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    // Per-request instances never use component-model async: leaving it off saves work on
    // every call.
    config.concurrency_support(false);
    let mut pool = PoolingAllocationConfig::default();
    let slots = limits.max_concurrent_requests.max(1);
    pool.total_component_instances(slots)
        .total_core_instances(slots * 4)
        .total_memories(slots * 2)
        .total_tables(slots * 4)
        .total_stacks(slots)
        .max_memory_size(limits.memory_limit_bytes)
        .max_memories_per_component(4)
        .max_tables_per_component(8)
        // Reset small memories by zeroing in place instead of unmapping, and return the rest
        // to the kernel in batches: per-request instances make page-fault and TLB-flush cost
        // the largest share of a request otherwise.
        .linear_memory_keep_resident(KEEP_RESIDENT_BYTES)
        .table_keep_resident(64 * 1024)
        .decommit_batch_size(DECOMMIT_BATCH)
        // On Linux 6.7+ the PAGEMAP_SCAN ioctl finds the pages a request actually dirtied,
        // so only those are zeroed instead of the whole resident prefix; elsewhere this
        // falls back to the plain reset.
        .pagemap_scan(wasmtime::Enabled::Auto);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    Engine::new(&config)
}

/// Advances the engine's epoch every [`EPOCH_TICK`] until dropped.
pub struct EpochTicker {
    stop: Arc<AtomicBool>,
}

impl EpochTicker {
    /// Starts the ticker thread.
    pub fn start(engine: Engine) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        std::thread::Builder::new()
            .name("marcus-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            })
            .expect("spawning the epoch thread");
        Self { stop }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
