//! The README's two commands share one build: every crate that `cargo run --release --bin
//! marcus` compiles is compiled with exactly the features `cargo test --release` asks for,
//! so the test command after the run command reuses its artifacts (wasmtime above all)
//! instead of building them again. Cargo unifies features per build, and dev-dependencies
//! only join the test build; a crate they give more features is listed in `host/Cargo.toml`
//! (the build-alignment block). This suite asks `cargo tree` for both builds' features
//! and names what to add when they drift apart.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

/// Crate (`name vVERSION`) → the features one build enables for it.
type Features = BTreeMap<String, BTreeSet<String>>;

/// The features of one build: the run command's (`cargo run --bin marcus` compiles the host
/// package alone, without dev-dependencies) or the test command's (every default member,
/// with its dev-dependencies).
fn features(workspace: &Path, with_dev_dependencies: bool) -> Features {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let edges = if with_dev_dependencies {
        "features,normal,build,dev"
    } else {
        "features,normal,build"
    };
    let out = Command::new(cargo)
        .current_dir(workspace)
        .args(["tree", "--offline", "--locked", "--prefix", "none"])
        .args(if with_dev_dependencies {
            &[][..]
        } else {
            &["-p", "marcus-host"][..]
        })
        .args(["-e", edges, "-f", "{p} {f}"])
        .output()
        .expect("running cargo tree");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    parse(&String::from_utf8_lossy(&out.stdout))
}

/// Reads `cargo tree -f '{p} {f}'` lines: `name vX.Y.Z [(source)] [(proc-macro)] [a,b,c]`.
fn parse(text: &str) -> Features {
    let mut all = Features::new();
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let (Some(name), Some(version)) = (words.next(), words.next()) else {
            continue;
        };
        if !version.starts_with('v') {
            continue;
        }
        let entry = all.entry(format!("{name} {version}")).or_default();
        for word in words.filter(|w| !w.starts_with('(')) {
            entry.extend(word.split(',').map(str::to_string));
        }
    }
    all
}

#[test]
fn the_test_build_reuses_every_crate_of_the_run_build() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let run = features(workspace, false);
    let test = features(workspace, true);
    assert!(
        run.keys().any(|k| k.starts_with("wasmtime ")),
        "the run build should hold wasmtime: {:?}",
        run.keys().take(20).collect::<Vec<_>>()
    );
    let drifted: Vec<String> = run
        .iter()
        // The host itself is compiled with its test-only routes in the test build
        // (`debug-routes`); everything it is built from is shared.
        .filter(|(krate, _)| !krate.starts_with("marcus-host "))
        .filter_map(|(krate, in_run)| {
            let in_test = test.get(krate)?;
            (in_run != in_test).then(|| {
                let more: Vec<&String> = in_test.difference(in_run).collect();
                let fewer: Vec<&String> = in_run.difference(in_test).collect();
                format!("{krate}: the test build adds {more:?}, drops {fewer:?}")
            })
        })
        .collect();
    assert!(
        drifted.is_empty(),
        "`cargo test` would rebuild these crates of `cargo run`; declare the features in \
         host/Cargo.toml's build-alignment block:\n{}",
        drifted.join("\n")
    );
}

#[test]
fn the_reader_understands_cargo_tree_lines() {
    let parsed = parse(
        "serde v1.0.229 default,derive,std\n\
         serde_derive v1.0.229 (proc-macro) default\n\
         marcus-core v0.1.0 (/w/components/core) \n\
         serde v1.0.229 rc (*)\n",
    );
    assert_eq!(
        parsed["serde v1.0.229"],
        ["default", "derive", "rc", "std"].map(String::from).into()
    );
    assert_eq!(
        parsed["serde_derive v1.0.229"],
        ["default".to_string()].into()
    );
    assert!(parsed["marcus-core v0.1.0"].is_empty());
}

#[test]
fn only_the_test_build_has_the_test_only_routes() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let host = |features: &Features| {
        features
            .iter()
            .find(|(k, _)| k.starts_with("marcus-host "))
            .map(|(_, f)| f.clone())
            .expect("marcus-host in the build")
    };
    assert!(
        !host(&features(workspace, false)).contains("debug-routes"),
        "`cargo run` / `cargo build --release` must not compile the test-only routes"
    );
    assert!(
        host(&features(workspace, true)).contains("debug-routes"),
        "the suites need the test-only routes in the test build"
    );
}
