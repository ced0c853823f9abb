//! `marcus status` and `marcus doctor` on the real binary: the board's figures from a running
//! server and, after it stopped, from its data directory (the same figures, the compiled app
//! left as the server cached it); a readable refusal when neither is there or credentials
//! are missing; the doctor's checks on a good data directory, with unreachable PostgreSQL and
//! Redis (failing with a fix and exit status 1, the password never printed), and with the
//! listen port held by a Marcus, by a silent listener and by another HTTP server; and, with
//! the machine's PostgreSQL and Redis (skipped without them, failing under CI), both
//! commands on the team tier's stores.

mod common;

use common::Marcus;
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Output};

/// Runs `marcus ARGS` with none of the caller's settings and `env` added.
fn marcus(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_marcus"));
    for var in marcus_host::launcher::settings_variables() {
        cmd.env_remove(var);
    }
    cmd.args(args)
        .envs(env.iter().copied())
        .output()
        .expect("running marcus")
}

/// stdout as JSON, panicking with both streams when it is not.
fn json_out(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}); exit {}:\n{}\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A free loopback port with nothing listening on it.
fn dead_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// The files in the data directory's compiled-code cache.
fn compiled(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("compiled"))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// The check named `name` in a doctor's JSON.
fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no {name} check in {report}"))
}

#[test]
fn status_reads_a_running_server_then_its_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let mut m = Marcus::start_in(dir.path(), &[]);
    let created = m.post_json(
        "/api/projects",
        &json!({"project_name": "status demo", "tasks": [
            {"name": "API"}, {"name": "UI", "dependencies": ["API"]}, {"name": "Docs"}]}),
    );
    assert!(created.status < 300, "{}", created.text_prefix());
    let project_id = created.json()["project_id"].as_str().unwrap().to_string();
    for agent in ["a1", "a2"] {
        let r = m.post_json(
            "/api/agents",
            &json!({"agent_id": agent, "name": agent.to_uppercase(), "role": "dev", "skills": []}),
        );
        assert!(r.status < 300, "{}", r.text_prefix());
    }
    let claimed = m.post_json("/api/agents/a1/next-task", &json!({})).json();
    assert_eq!(claimed["success"], true, "{claimed}");
    let task_id = claimed["task"]["id"].as_str().unwrap().to_string();

    // From the server (MARCUS_HOME points nowhere, so nothing else could answer).
    let nowhere = dir.path().join("not-here");
    let out = marcus(
        &["status", "--url", &m.url, "--json"],
        &[("MARCUS_HOME", nowhere.to_str().unwrap())],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let live = json_out(&out);
    assert_eq!(live["source"], "server");
    assert_eq!(live["location"], m.url.as_str());
    let expected_tasks = json!({"total": 3, "todo": 2, "in_progress": 1, "blocked": 0, "done": 0});
    assert_eq!(live["tasks"], expected_tasks, "{live}");
    assert_eq!(live["projects"][0]["id"], project_id.as_str());
    assert_eq!(live["projects"][0]["name"], "status demo");
    assert_eq!(live["projects"][0]["tasks"], expected_tasks);
    assert_eq!(live["live_leases"], 1);
    let agents = live["agents"].as_array().unwrap();
    assert_eq!(agents.len(), 2);
    let a1 = agents.iter().find(|a| a["id"] == "a1").unwrap();
    assert_eq!(a1["lease"]["task_id"], task_id.as_str());
    assert_eq!(a1["lease"]["project_id"], project_id.as_str());
    let left = a1["lease"]["seconds_left"].as_u64().unwrap();
    assert!((1..=180).contains(&left), "{a1}");
    let a2 = agents.iter().find(|a| a["id"] == "a2").unwrap();
    assert_eq!(a2["lease"], Value::Null);

    // The same as a table.
    let table = marcus(&["status", "--url", &m.url], &[]);
    assert!(table.status.success());
    let table = text(&table.stdout);
    assert!(
        table.contains(&format!("status demo ({project_id})")),
        "{table}"
    );
    assert!(
        table.contains("IN PROGRESS") && table.contains("a1"),
        "{table}"
    );
    assert!(table.contains("agents: 2, live leases: 1"), "{table}");

    // With the server stopped, from its data directory: the same figures.
    let cached_by_server = compiled(dir.path());
    assert_eq!(cached_by_server.len(), 1, "{cached_by_server:?}");
    assert!(m.terminate().success());
    let out = marcus(
        &[
            "status",
            "--url",
            &m.url,
            "--json",
            "--data-dir",
            dir.path().to_str().unwrap(),
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stored = json_out(&out);
    assert_eq!(stored["source"], "store");
    assert!(
        stored["location"].as_str().unwrap().starts_with("sqlite:"),
        "{stored}"
    );
    assert_eq!(stored["projects"], live["projects"]);
    assert_eq!(stored["tasks"], live["tasks"]);
    assert_eq!(stored["live_leases"], 1);
    let a1 = stored["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "a1")
        .unwrap();
    assert_eq!(a1["lease"]["task_id"], task_id.as_str());
    // The app ran from the compiled code the server cached, and left it in place.
    assert_eq!(compiled(dir.path()), cached_by_server);

    // Neither a server nor a data directory: a readable refusal.
    let empty = tempfile::tempdir().unwrap();
    let out = marcus(
        &[
            "status",
            "--url",
            &m.url,
            "--data-dir",
            empty.path().to_str().unwrap(),
        ],
        &[],
    );
    assert!(!out.status.success());
    let said = text(&out.stderr);
    assert!(
        said.contains("cannot reach Marcus at") && said.contains("no board to read"),
        "{said}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn status_asks_for_a_token_where_one_is_required() {
    let dir = tempfile::tempdir().unwrap();
    let made = marcus(
        &[
            "token",
            "create",
            "--role",
            "viewer",
            "--name",
            "watch",
            "--quiet",
            "--data-dir",
            dir.path().to_str().unwrap(),
        ],
        &[],
    );
    assert!(made.status.success(), "{}", text(&made.stderr));
    let token = text(&made.stdout).trim().to_string();
    let m = Marcus::spawn(Some(dir.path()), &["--require-auth"], &[]);

    let refused = marcus(&["status", "--url", &m.url], &[]);
    assert!(!refused.status.success());
    let said = text(&refused.stderr);
    assert!(said.contains("401") && said.contains("--token"), "{said}");

    let out = marcus(
        &["status", "--url", &m.url, "--json"],
        &[("MARCUS_TOKEN", &token)],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(json_out(&out)["tasks"]["total"], 0);
}

#[test]
fn doctor_passes_a_good_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let mut m = Marcus::start_in(dir.path(), &[]);
    assert!(m.terminate().success());
    let listen = format!("127.0.0.1:{}", dead_port());
    let args = [
        "doctor",
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--listen",
        &listen,
    ];

    let out = marcus(&[&args[..], &["--json"]].concat(), &[]);
    assert!(
        out.status.success(),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let report = json_out(&out);
    assert_eq!(report["ok"], true);
    for c in report["checks"].as_array().unwrap() {
        let status = c["status"].as_str().unwrap();
        assert!(status == "ok" || status == "skip", "{c}");
        assert!(!c["detail"].as_str().unwrap().is_empty(), "{c}");
        assert_eq!(c["fix"], Value::Null, "{c}");
    }
    assert!(
        check(&report, "SQLite database")["detail"]
            .as_str()
            .unwrap()
            .contains(&format!(
                "schema version {}",
                marcus_core::store::schema_version::SCHEMA_VERSION
            ))
    );
    assert_eq!(check(&report, "PostgreSQL")["status"], "skip");
    assert_eq!(check(&report, "Redis")["status"], "skip");
    assert!(
        check(&report, "listen port")["detail"]
            .as_str()
            .unwrap()
            .contains("free")
    );
    // The server's compiled app is the one this build would use.
    assert!(
        check(&report, "app component")["detail"]
            .as_str()
            .unwrap()
            .contains("compiled code cached"),
        "{report}"
    );
    assert!(
        check(&report, "marcus version")["detail"]
            .as_str()
            .unwrap()
            .contains(env!("CARGO_PKG_VERSION"))
    );

    let plain = marcus(&args, &[]);
    assert!(plain.status.success());
    let plain = text(&plain.stdout);
    assert!(
        plain.lines().any(|l| l.starts_with("ok    data directory")),
        "{plain}"
    );

    // A data directory that is a file fails, with the fix.
    let file = dir.path().join("marcus.db");
    let out = marcus(
        &[
            "doctor",
            "--json",
            "--data-dir",
            file.to_str().unwrap(),
            "--listen",
            &listen,
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    let report = json_out(&out);
    assert_eq!(check(&report, "data directory")["status"], "fail");
    assert!(check(&report, "data directory")["fix"].as_str().is_some());
}

#[test]
fn doctor_fails_unreachable_postgres_and_redis_with_a_fix() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = format!(
        "postgresql://marcus:sekrit-pw@127.0.0.1:{}/board",
        dead_port()
    );
    let redis_url = format!("redis://127.0.0.1:{}", dead_port());
    let listen = format!("127.0.0.1:{}", dead_port());
    let out = marcus(
        &[
            "doctor",
            "--json",
            "--data-dir",
            dir.path().to_str().unwrap(),
            "--listen",
            &listen,
        ],
        &[("DATABASE_URL", &database_url), ("REDIS_URL", &redis_url)],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report = json_out(&out);
    assert_eq!(report["ok"], false);
    for name in ["PostgreSQL", "Redis"] {
        let c = check(&report, name);
        assert_eq!(c["status"], "fail", "{c}");
        assert!(c["fix"].as_str().is_some_and(|f| !f.is_empty()), "{c}");
    }
    assert!(
        check(&report, "PostgreSQL")["detail"]
            .as_str()
            .unwrap()
            .contains("cannot reach PostgreSQL")
    );
    assert!(
        check(&report, "Redis")["detail"]
            .as_str()
            .unwrap()
            .contains(&redis_url)
    );
    // Storage is PostgreSQL, so the data directory's SQLite is not looked at.
    assert_eq!(check(&report, "SQLite database")["status"], "skip");
    assert!(
        text(&out.stderr).contains("2 of 7 checks failed"),
        "{}",
        text(&out.stderr)
    );
    for stream in [&out.stdout, &out.stderr] {
        assert!(
            !text(stream).contains("sekrit-pw"),
            "the password is printed"
        );
    }
}

#[test]
fn doctor_tells_a_marcus_on_the_port_from_other_programs() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap();
    let port_check = |listen: &str| {
        let out = marcus(
            &[
                "doctor",
                "--json",
                "--data-dir",
                data_dir,
                "--listen",
                listen,
            ],
            &[],
        );
        let report = json_out(&out);
        (out.status.code(), check(&report, "listen port").clone())
    };

    let m = Marcus::start(&[]);
    let addr = m.url.trim_start_matches("http://").to_string();
    let (code, c) = port_check(&addr);
    assert_eq!(code, Some(0), "{c}");
    assert_eq!(c["status"], "ok");
    let detail = c["detail"].as_str().unwrap();
    assert!(
        detail.contains("a Marcus server already serves")
            && detail.contains(env!("CARGO_PKG_VERSION")),
        "{detail}"
    );
    drop(m);

    // A listener that never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let (code, c) = port_check(&silent.local_addr().unwrap().to_string());
    assert_eq!(code, Some(1));
    assert_eq!(c["status"], "fail");
    assert!(
        c["detail"]
            .as_str()
            .unwrap()
            .contains("taken by another program"),
        "{c}"
    );
    assert!(c["fix"].as_str().unwrap().contains("--listen"), "{c}");

    // Another HTTP server, whose /healthz is not Marcus's.
    let other = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let other_addr = other.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in other.incoming().flatten() {
            let mut stream = stream;
            let mut buf = [0u8; 2048];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 11\r\nconnection: close\r\n\r\n<h1>hi</h1>",
            );
        }
    });
    let (code, c) = port_check(&other_addr);
    assert_eq!(code, Some(1));
    assert_eq!(c["status"], "fail");
    assert!(
        c["detail"]
            .as_str()
            .unwrap()
            .contains("/healthz answered 200"),
        "{c}"
    );
}

#[test]
fn status_and_doctor_read_the_team_tier_stores() {
    let Some(team) = common::team::team("cli_status (PostgreSQL and Redis)") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap();
    let listen = format!("127.0.0.1:{}", dead_port());
    let doctor = |env: &[(&str, &str)]| {
        let out = marcus(
            &[
                "doctor",
                "--json",
                "--data-dir",
                data_dir,
                "--listen",
                &listen,
            ],
            env,
        );
        assert!(
            out.status.success(),
            "{}\n{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        json_out(&out)
    };

    // An empty database answers; the first start creates the tables.
    let report = doctor(&team.env());
    let postgres = check(&report, "PostgreSQL");
    assert_eq!(postgres["status"], "ok", "{report}");
    assert!(
        postgres["detail"]
            .as_str()
            .unwrap()
            .contains("no Marcus tables yet"),
        "{postgres}"
    );
    assert_eq!(check(&report, "Redis")["status"], "ok", "{report}");
    assert_eq!(check(&report, "SQLite database")["status"], "skip");

    let mut m = Marcus::start_env(&[], &team.env());
    let created = m.post_json(
        "/api/projects",
        &json!({"project_name": "team board", "tasks": [{"name": "one"}, {"name": "two"}]}),
    );
    assert!(created.status < 300, "{}", created.text_prefix());
    let registered = m.post_json(
        "/api/agents",
        &json!({"agent_id": "t1", "name": "T", "role": "dev", "skills": []}),
    );
    assert!(registered.status < 300, "{}", registered.text_prefix());
    assert_eq!(
        m.post_json("/api/agents/t1/next-task", &json!({})).json()["success"],
        true
    );
    assert!(m.terminate().success());

    let report = doctor(&team.env());
    assert!(
        check(&report, "PostgreSQL")["detail"]
            .as_str()
            .unwrap()
            .contains(&format!(
                "schema version {}",
                marcus_core::store::schema_version::SCHEMA_VERSION
            )),
        "{report}"
    );

    // With no server, `status` reads the board from DATABASE_URL.
    let url = format!("http://127.0.0.1:{}", dead_port());
    let out = marcus(
        &["status", "--json", "--url", &url, "--data-dir", data_dir],
        &[("DATABASE_URL", team.db.url.as_str())],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stored = json_out(&out);
    assert_eq!(stored["source"], "store");
    assert!(
        stored["location"]
            .as_str()
            .unwrap()
            .starts_with("postgres:"),
        "{stored}"
    );
    assert_eq!(
        stored["tasks"],
        json!({"total": 2, "todo": 1, "in_progress": 1, "blocked": 0, "done": 0})
    );
    assert_eq!(stored["agents"][0]["id"], "t1");
    assert_eq!(stored["live_leases"], 1);
}
