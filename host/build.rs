//! Builds the app component for wasm32-wasip2 so that `cargo run`/`cargo build` of the host
//! alone produces a runnable `marcus` with the component embedded.
//!
//! The nested cargo uses its own target directory (beside the host's) so it never waits on
//! the outer build's lock.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let workspace = manifest_dir.parent().unwrap().to_path_buf();
    for watched in ["components", "wit", "Cargo.lock", ".cargo"] {
        rerun_if_changed_recursive(&workspace.join(watched));
    }
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    // OUT_DIR is <target>/<profile>/build/<pkg>/out: the component target sits in <target>.
    let target_root = out_dir
        .ancestors()
        .nth(4)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| out_dir.join("components"));
    let component_target = target_root.join("components");

    ensure_wasm_target();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&workspace)
        .args([
            "build",
            "--release",
            "--locked",
            "--target",
            "wasm32-wasip2",
            "-p",
            "marcus-app",
        ])
        .env("CARGO_TARGET_DIR", &component_target);
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
            "building the app component failed; is the wasm32-wasip2 target installed? \
             (`rustup target add wasm32-wasip2`)"
        );
    }
    let wasm = component_target.join("wasm32-wasip2/release/marcus_app.wasm");
    assert!(wasm.exists(), "component not found at {}", wasm.display());
    println!("cargo:rustc-env=MARCUS_APP_WASM={}", wasm.display());
}

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
