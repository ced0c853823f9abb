//! This build and its app component: the version, the embedded component, and whether the
//! data directory holds its compiled code (the first start compiles it otherwise).

use super::check::Check;
use crate::component;
use crate::engine::{self, EngineLimits};
use std::path::Path;

const NAME: &str = "app component";

/// The marcus version (always ok: it is what runs).
pub fn marcus() -> Check {
    Check::ok(
        "marcus version",
        format!(
            "marcus {} ({} {})",
            env!("CARGO_PKG_VERSION"),
            std::env::consts::OS,
            std::env::consts::ARCH
        ),
    )
}

/// The embedded app component and its compiled-code cache in `data_dir`.
pub fn app(data_dir: &Path) -> Check {
    let wasm = component::EMBEDDED_APP;
    if wasm.is_empty() {
        return Check::fail(
            NAME,
            "this binary embeds no app component",
            "rebuild marcus with `cargo build --release -p marcus-host`",
        );
    }
    let size = format!("embedded, {} KiB", wasm.len().div_ceil(1024));
    let engine = match engine::build(EngineLimits {
        max_concurrent_requests: 1,
        memory_limit_bytes: 128 * 1024 * 1024,
    }) {
        Ok(engine) => engine,
        Err(e) => {
            return Check::fail(
                NAME,
                format!("{size}; wasmtime cannot be configured on this machine: {e}"),
                "run marcus on a 64-bit Linux or macOS host with virtual memory for the instance pool",
            );
        }
    };
    let cached = component::cache_file(&engine, wasm, &data_dir.join("compiled"));
    if !cached.exists() {
        return Check::ok(
            NAME,
            format!(
                "{size}; not compiled yet, the first start compiles it (about 1 s) and caches it"
            ),
        );
    }
    match component::cached_loads(&engine, &cached) {
        Ok(()) => Check::ok(
            NAME,
            format!("{size}; compiled code cached in {}", cached.display()),
        ),
        Err(e) => Check::warn(
            NAME,
            format!(
                "{size}; the compiled cache {} does not load: {e}",
                cached.display()
            ),
            format!(
                "delete {}; the next start compiles the component again",
                cached.display()
            ),
        ),
    }
}
