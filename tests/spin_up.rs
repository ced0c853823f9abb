//! Marcus under a real `spin up` with storage in PostgreSQL (`database_url` set), when a Spin
//! binary is at hand: `MARCUS_SPIN_BIN`, or `spin` on the `PATH`. From an empty database,
//! `/api/features`, the MCP walk and an 8-agent race answer, and every document lands in
//! PostgreSQL. Without a Spin binary the suite says so and passes; the stand-in host of
//! `tests/spin_postgres.rs` checks the same behaviour on every run.

mod common;
mod spin_support;

use common::Marcus;
use common::board::race_through_chains;
use common::serves::{AtUrl, Serves};
use common::team::{PrivateDatabase, wait_until};
use serde_json::Value;
use spin_support::board_walk::{assert_each_task_assigned_once_in, diamond_walk};
use spin_support::tenants::{self, PgSeeds};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const SUITE: &str = "real spin up with PostgreSQL";

/// The Spin binary to run, if any.
fn spin_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("MARCUS_SPIN_BIN") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("spin"))
        .find(|candidate| candidate.is_file())
}

/// Says plainly that the suite did not run (on the real stderr, which the harness does not
/// capture). A Spin binary is optional everywhere, CI included: none can be installed there.
fn skip_without_spin() {
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED: {SUITE} (no Spin binary: set MARCUS_SPIN_BIN or put spin on the PATH)"
    );
}

/// A `spin up` of the project's `spin.toml`, stopped on drop.
struct SpinUp {
    child: Child,
    url: String,
    _state: tempfile::TempDir,
}

impl SpinUp {
    fn start(spin: &Path, variables: &[(&str, &str)]) -> Self {
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let state = tempfile::tempdir().unwrap();
        let port = common::team::PrivateRedis::free_port();
        let mut cmd = Command::new(spin);
        cmd.current_dir(workspace)
            .args(["up", "-f", "spin.toml", "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("--state-dir")
            .arg(state.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (name, value) in variables {
            cmd.env(
                format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase()),
                value,
            );
        }
        // Its own process group: `spin up` runs the trigger as a child process.
        cmd.process_group(0);
        let mut child = cmd.spawn().expect("starting spin up");
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                eprintln!("spin: {line}");
            }
        });
        let url = format!("http://127.0.0.1:{port}");
        let up = Self {
            child,
            url: url.clone(),
            _state: state,
        };
        let answered = wait_until(Duration::from_secs(60), || {
            ureq::get(&format!("{url}/healthz")).call().is_ok()
        });
        assert!(
            answered.is_some(),
            "spin up did not answer /healthz in 60 s"
        );
        up
    }
}

impl Drop for SpinUp {
    fn drop(&mut self) {
        if let Ok(pid) = i32::try_from(self.child.id()) {
            // SAFETY: kill(2) on the process group of our own, not yet reaped child.
            unsafe { libc::kill(-pid, libc::SIGKILL) };
        }
        let _ = self.child.wait();
    }
}

/// `spin up` with storage in `db`, or `None` (and a skip message) without a Spin binary.
fn spin_on(db: &PrivateDatabase) -> Option<SpinUp> {
    spin_with(db, &[])
}

/// `spin up` with storage in `db` and further `variables`, or `None` (and a skip message)
/// without a Spin binary.
fn spin_with(db: &PrivateDatabase, variables: &[(&str, &str)]) -> Option<SpinUp> {
    let Some(spin) = spin_binary() else {
        skip_without_spin();
        return None;
    };
    // Spin's outbound grant in spin.toml names the `postgres://` scheme.
    let url = format!(
        "postgres://{}?sslmode=disable",
        db.url.split_once("://").map(|(_, rest)| rest).unwrap()
    );
    let host = url
        .split('@')
        .nth(1)
        .or_else(|| url.split("://").nth(1))
        .and_then(|rest| rest.split('/').next())
        .unwrap()
        .to_string();
    let mut all = vec![
        ("database_url", url.as_str()),
        ("database_host", host.as_str()),
    ];
    all.extend_from_slice(variables);
    Some(SpinUp::start(&spin, &all))
}

fn documents_in(db: &PrivateDatabase, collection: &str) -> usize {
    db.query_text(&format!(
        "SELECT COUNT(*)::text FROM documents WHERE collection = '{collection}'"
    ))
    .parse()
    .unwrap()
}

#[test]
fn features_the_walk_and_an_eight_agent_race_answer_on_postgres_from_an_empty_database() {
    let Some(db) = PrivateDatabase::create(SUITE) else {
        return;
    };
    let Some(up) = spin_on(&db) else {
        return;
    };
    let server = AtUrl(up.url.clone());

    let (status, _, features) = server.exchange("GET", "/api/features", &[], "");
    assert_eq!(status, 200, "{features}");
    let features: Value = serde_json::from_str(&features).unwrap();
    assert_eq!(features["host"], "spin");
    assert_eq!(features["backends"]["storage"]["name"], "postgres");
    assert_eq!(
        features["backends"]["storage"]["healthy"], true,
        "{features}"
    );

    diamond_walk(&server);
    let servers: [&dyn Serves; 1] = [&server];
    let project = race_through_chains(&servers, 8, 48, 8).project;
    assert_each_task_assigned_once_in(&db, &project, 48);
    assert_eq!(
        documents_in(&db, "tasks"),
        4 + 48,
        "every task landed in PostgreSQL"
    );
}

#[test]
fn spin_and_a_native_host_share_a_database_the_native_host_created() {
    if spin_binary().is_none() {
        skip_without_spin();
        return;
    }
    let Some(db) = PrivateDatabase::create(SUITE) else {
        return;
    };
    let native = Marcus::start_env(&[], &[("DATABASE_URL", &db.url)]);
    assert_eq!(native.get("/api/features").status, 200);
    let Some(up) = spin_on(&db) else {
        return;
    };
    let server = AtUrl(up.url.clone());
    let (status, _, put) = server.exchange("PUT", "/api/storage/notes/n1", &[], r#"{"k":1}"#);
    assert_eq!(status, 200, "{put}");
    diamond_walk(&server);
    let servers: [&dyn Serves; 2] = [&server, &native];
    let project = race_through_chains(&servers, 8, 48, 8).project;
    assert_each_task_assigned_once_in(&db, &project, 48);
}

#[test]
fn two_tenants_under_spin_up_see_nothing_of_each_other() {
    let Some(db) = PrivateDatabase::create(SUITE) else {
        return;
    };
    let Some(up) = spin_with(&db, &[("auth_required", "true")]) else {
        return;
    };
    tenants::two_tenants_stay_apart(&AtUrl(up.url.clone()), &PgSeeds(db.url.clone()));
}
