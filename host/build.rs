//! Builds the wasm32-wasip2 components so that `cargo run`/`cargo build` of the host alone
//! produces a runnable `marcus` with the app component embedded, and the Spin adapter and
//! worker beside it.
//!
//! The nested cargo builds into `<workspace>/target/components`, the directory `spin.toml`
//! names, with the same command as `spin build`: the app file the native host embeds is the
//! very file Spin serves. It is not the outer target directory, so the nested build never
//! waits on the outer build's lock.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let workspace = manifest_dir.parent().unwrap().to_path_buf();
    for watched in ["components", "wit", "Cargo.lock", ".cargo"] {
        rerun_if_changed_recursive(&workspace.join(watched));
    }
    ensure_wasm_target();
    let component_target = workspace.join(COMPONENT_TARGET_DIR);
    nested_build(&workspace, &component_target, COMPONENT_BUILD_ARGS);
    let release = |file: &str| component_target.join("wasm32-wasip2/release").join(file);
    // The test build embeds an app with the test-only routes, built apart; the release
    // components above (the ones Spin serves) never have them.
    let embedded = if std::env::var_os("CARGO_FEATURE_DEBUG_ROUTES").is_some() {
        let debug_target = workspace.join(DEBUG_COMPONENT_TARGET_DIR);
        nested_build(&workspace, &debug_target, DEBUG_APP_BUILD_ARGS);
        debug_target.join("wasm32-wasip2/release/marcus_app.wasm")
    } else {
        release("marcus_app.wasm")
    };
    for (var, wasm) in [
        ("MARCUS_APP_WASM", embedded),
        ("MARCUS_RELEASE_APP_WASM", release("marcus_app.wasm")),
        (
            "MARCUS_SPIN_ADAPTER_WASM",
            release("marcus_spin_adapter.wasm"),
        ),
        (
            "MARCUS_SPIN_WORKER_WASM",
            release("marcus_spin_worker.wasm"),
        ),
    ] {
        assert!(wasm.exists(), "component not found at {}", wasm.display());
        println!("cargo:rustc-env={var}={}", wasm.display());
    }
    let command = format!(
        "cargo {} --target-dir {COMPONENT_TARGET_DIR}",
        COMPONENT_BUILD_ARGS.join(" ")
    );
    println!("cargo:rustc-env=MARCUS_COMPONENT_BUILD_COMMAND={command}");
}

/// Runs one nested component build into `target`.
fn nested_build(workspace: &Path, target: &Path, args: &[&str]) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace)
        .args(args)
        .env("CARGO_TARGET_DIR", target);
    // Flags meant for the host build must not leak into the wasm build.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_MAKEFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd
        .status()
        .expect("running cargo to build the app component");
    if !status.success() {
        panic!(
            "building the components failed; is the wasm32-wasip2 target installed? \
             (`rustup target add wasm32-wasip2`)"
        );
    }
}

/// Where the components are built, relative to the workspace (as in spin.toml).
const COMPONENT_TARGET_DIR: &str = "target/components";

/// Where the test build's app (with the test-only routes) is built.
const DEBUG_COMPONENT_TARGET_DIR: &str = "target/components-debug-routes";

/// The test build's app: the release app's build with the test-only routes.
const DEBUG_APP_BUILD_ARGS: &[&str] = &[
    "build",
    "--release",
    "--locked",
    "--target",
    "wasm32-wasip2",
    "-p",
    "marcus-app",
    "--features",
    "debug-routes",
];

/// The one component build: the app, the Spin adapter and the Spin worker together, so
/// dependency features unify the same way whether the host or `spin build` runs it.
const COMPONENT_BUILD_ARGS: &[&str] = &[
    "build",
    "--release",
    "--locked",
    "--target",
    "wasm32-wasip2",
    "-p",
    "marcus-app",
    "-p",
    "marcus-spin-adapter",
    "-p",
    "marcus-spin-worker",
];

fn rerun_if_changed_recursive(path: &Path) {
    if path.is_dir() {
        if let Ok(entries) = std::fs::read_dir(path) {
            for entry in entries.flatten() {
                let p = entry.path();
                if p.file_name().is_some_and(|n| n == "target") {
                    continue;
                }
                rerun_if_changed_recursive(&p);
            }
        }
    } else {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

/// Adds the wasm32-wasip2 standard library when the active toolchain lacks it (rustup
/// installs a toolchain file's targets only when it installs the toolchain itself).
fn ensure_wasm_target() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| PathBuf::from(s.trim()));
    let installed = sysroot
        .as_ref()
        .is_some_and(|root| root.join("lib/rustlib/wasm32-wasip2").exists());
    if installed {
        return;
    }
    let mut rustup = Command::new("rustup");
    rustup.args(["target", "add", "wasm32-wasip2"]);
    if let Ok(toolchain) = std::env::var("RUSTUP_TOOLCHAIN") {
        rustup.args(["--toolchain", &toolchain]);
    }
    match rustup.status() {
        Ok(status) if status.success() => {}
        _ => println!(
            "cargo:warning=could not add the wasm32-wasip2 target; run `rustup target add wasm32-wasip2`"
        ),
    }
}
