//! Loading the app component: the one embedded at build time (or a file given on the
//! command line), compiled once and cached as native code in the data directory so later
//! launches skip Cranelift.

use anyhow::Context as _;
use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use wasmtime::Engine;
use wasmtime::component::Component;

/// The app component built by `build.rs`.
pub static EMBEDDED_APP: &[u8] = include_bytes!(env!("MARCUS_APP_WASM"));

/// Where the component came from and whether the compiled-code cache served it.
pub struct Loaded {
    /// The ready component.
    pub component: Component,
    /// True when native code came from the cache.
    pub from_cache: bool,
    /// The cache file used or written.
    pub cache_file: PathBuf,
}

/// Adapts `Engine::precompile_compatibility_hash` to a byte digest.
struct DigestHasher(Sha256);

impl Hasher for DigestHasher {
    fn finish(&self) -> u64 {
        0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

/// Where `wasm` compiled by `engine` is cached in `cache_dir`: `app-<digest>.cwasm`, the
/// digest covering the component, the engine's compilation settings and this version.
pub fn cache_file(engine: &Engine, wasm: &[u8], cache_dir: &Path) -> PathBuf {
    let mut hasher = DigestHasher(Sha256::new());
    wasm.hash(&mut hasher);
    engine.precompile_compatibility_hash().hash(&mut hasher);
    env!("CARGO_PKG_VERSION").hash(&mut hasher);
    let digest = hasher.0.finalize();
    let name: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    cache_dir.join(format!("app-{name}.cwasm"))
}

/// Loads `wasm`, using `<cache_dir>/app-<digest>.cwasm` when it matches this engine.
pub fn load(engine: &Engine, wasm: &[u8], cache_dir: &Path) -> anyhow::Result<Loaded> {
    let cache_file = cache_file(engine, wasm, cache_dir);

    if cache_file.exists() {
        // SAFETY: the file is one this binary wrote for exactly this engine configuration
        // and component digest (the name says so); it is not user input.
        match unsafe { Component::deserialize_file(engine, &cache_file) } {
            Ok(component) => {
                return Ok(Loaded {
                    component,
                    from_cache: true,
                    cache_file,
                });
            }
            Err(e) => tracing::warn!(
                "ignoring unusable compiled cache {}: {e}",
                cache_file.display()
            ),
        }
    }

    let compiled = engine
        .precompile_component(wasm)
        .map_err(|e| anyhow::anyhow!("compiling the app component: {e}"))?;
    std::fs::create_dir_all(cache_dir)
        .with_context(|| format!("creating {}", cache_dir.display()))?;
    let tmp = cache_file.with_extension(format!("tmp{}", std::process::id()));
    match std::fs::write(&tmp, &compiled).and_then(|()| std::fs::rename(&tmp, &cache_file)) {
        Ok(()) => remove_stale(cache_dir, &cache_file),
        Err(e) => tracing::warn!("could not cache compiled component: {e}"),
    }
    // SAFETY: `compiled` was produced by this engine a moment ago.
    let component = unsafe { Component::deserialize(engine, &compiled) }
        .map_err(|e| anyhow::anyhow!("loading the compiled app component: {e}"))?;
    Ok(Loaded {
        component,
        from_cache: false,
        cache_file,
    })
}

/// Whether the cache file at `cache_file` (named by [`cache_file`] for this engine) loads.
pub fn cached_loads(engine: &Engine, cache_file: &Path) -> Result<(), String> {
    // SAFETY: the name says this binary wrote the file for exactly this engine configuration
    // and component digest, as in `load`.
    unsafe { Component::deserialize_file(engine, cache_file) }
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Removes compiled caches of older builds so the data directory does not grow.
fn remove_stale(dir: &Path, keep: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let p = entry.path();
        let is_cache = p
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("app-") && n.ends_with(".cwasm"));
        if is_cache && p != keep {
            let _ = std::fs::remove_file(p);
        }
    }
}
