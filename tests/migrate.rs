//! `marcus migrate` with the real PostgreSQL: a round trip that keeps every byte that
//! matters, an interrupted run finished by a re-run, refusals, and damaged sources.

mod common;

use common::Marcus;
use common::board::ok;
use common::team::PrivateDatabase;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn migrate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_marcus"))
        .arg("migrate")
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("MARCUS_HOME")
        .stdin(Stdio::null())
        .output()
        .expect("running marcus migrate")
}

fn summary(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "migrate failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON summary ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn checksums(s: &Value, side: &str) -> Vec<(String, String)> {
    s["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["collection"].as_str().unwrap().to_string(),
                c[side].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Fills `dir` with a board: a project, an agent holding a lease, a decision, events.
fn solo_board(dir: &Path) -> (String, String) {
    let mut m = Marcus::start_in(dir, &[]);
    let created = ok(
        &m,
        "create_project",
        json!({"project_name": "moving", "tasks": [
        {"name": "api", "description": "the API"}, {"name": "ui", "dependencies": ["api"]}]}),
    );
    let project = created["project_id"].as_str().unwrap().to_string();
    ok(
        &m,
        "register_agent",
        json!({"agent_id": "ada", "name": "Ada", "role": "dev", "project_id": project}),
    );
    let next = ok(&m, "request_next_task", json!({"agent_id": "ada"}));
    let task = next["task"]["id"].as_str().unwrap().to_string();
    ok(
        &m,
        "log_decision",
        json!({"agent_id": "ada", "task_id": task, "decision": "REST, not gRPC"}),
    );
    assert!(m.terminate().success());
    (project, task)
}

#[test]
fn round_trip_sqlite_postgres_sqlite_keeps_everything_and_serves_it() {
    let Some(db) = PrivateDatabase::create("migrate round trip") else {
        return;
    };
    let solo = tempfile::tempdir().unwrap();
    let (project, task) = solo_board(solo.path());
    let sqlite = format!("sqlite:{}", solo.path().join("marcus.db").display());
    let postgres = format!("postgres:{}", db.url);

    let plan = migrate(&["--from", &sqlite, "--to", &postgres, "--dry-run", "--json"]);
    let plan = summary(&plan);
    assert_eq!(plan["dry_run"], true);
    assert!(plan["documents"].as_u64().unwrap() > 5);
    assert!(
        db.query_text("SELECT COUNT(*)::text FROM documents") == "0",
        "dry run wrote"
    );

    let there = summary(&migrate(&["--from", &sqlite, "--to", &postgres, "--json"]));
    assert_eq!(there["verified"], true, "{there}");
    assert_eq!(there["written"], there["documents"]);
    assert_eq!(
        checksums(&there, "source_checksum"),
        checksums(&there, "target_checksum")
    );

    // The team host serves the moved board: the agent still holds its lease and finishes.
    let mut team = Marcus::start_env(&["--debug-routes"], &[("DATABASE_URL", &db.url)]);
    let status = ok(&team, "get_project_status", json!({"project_id": project}));
    assert_eq!(status["status"]["total"], 2, "{status}");
    assert_eq!(status["status"]["in_progress"], 1, "{status}");
    let agent = ok(&team, "get_agent_status", json!({"agent_id": "ada"}));
    assert_eq!(agent["agent"]["current_task_id"], task.as_str(), "{agent}");
    let context = ok(&team, "get_task_context", json!({"task_id": task}));
    assert!(context.to_string().contains("REST, not gRPC"), "{context}");
    let logged = team
        .post_json(
            "/api/storage/events/_count",
            &json!({"where": {"project_id": project}}),
        )
        .json();
    assert!(
        logged["count"].as_u64().unwrap() >= 3,
        "the event log moved: {logged}"
    );
    let done = ok(
        &team,
        "report_task_progress",
        json!({"agent_id": "ada", "task_id": task, "status": "completed", "progress": 100}),
    );
    assert_eq!(done["status"], "done");
    assert!(team.terminate().success());

    // And back to a new SQLite file: the same checksums as the original for what did not change.
    let back_dir = tempfile::tempdir().unwrap();
    let back = format!("sqlite:{}", back_dir.path().join("back.db").display());
    let home = summary(&migrate(&["--from", &postgres, "--to", &back, "--json"]));
    assert_eq!(home["verified"], true, "{home}");
    let original: std::collections::HashMap<_, _> =
        checksums(&there, "source_checksum").into_iter().collect();
    let returned: std::collections::HashMap<_, _> =
        checksums(&home, "target_checksum").into_iter().collect();
    assert_eq!(
        original["projects"], returned["projects"],
        "untouched collections round-trip exactly"
    );
    assert_eq!(original["decisions"], returned["decisions"]);
    assert_ne!(
        original["tasks"], returned["tasks"],
        "the completion made on PostgreSQL came back"
    );

    // A round trip without changes in between is exact for every collection.
    let db2 = PrivateDatabase::create("migrate round trip").expect("second database");
    let again = summary(&migrate(&[
        "--from",
        &back,
        "--to",
        &format!("postgres:{}", db2.url),
        "--json",
    ]));
    let third_dir = tempfile::tempdir().unwrap();
    let third = format!("sqlite:{}", third_dir.path().join("third.db").display());
    let final_leg = summary(&migrate(&[
        "--from",
        &format!("postgres:{}", db2.url),
        "--to",
        &third,
        "--json",
    ]));
    assert_eq!(
        checksums(&again, "source_checksum"),
        checksums(&final_leg, "target_checksum")
    );
}

#[test]
fn an_interrupted_migration_is_finished_by_running_it_again() {
    let Some(db) = PrivateDatabase::create("interrupted migrate") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut m = Marcus::start_in(dir.path(), &[]);
    for batch in 0..40 {
        let writes: Vec<Value> = (0..500)
            .map(|i| json!({"collection": "bulk", "id": format!("d{:06}", batch * 500 + i), "data": {"n": batch * 500 + i, "text": "some words to carry"}}))
            .collect();
        assert_eq!(
            m.post_json("/api/storage/_batch", &json!({"writes": writes}))
                .status,
            200
        );
    }
    assert!(m.terminate().success());
    let sqlite = format!("sqlite:{}", dir.path().join("marcus.db").display());
    let postgres = format!("postgres:{}", db.url);

    // Kill the copy once it has reported progress beyond the start.
    let mut child = Command::new(env!("CARGO_BIN_EXE_marcus"))
        .args([
            "migrate",
            "--from",
            &sqlite,
            "--to",
            &postgres,
            "--batch-size",
            "5",
        ])
        .env_remove("DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(Instant::now() < deadline, "no progress line");
        let line = lines
            .next()
            .expect("migrate ended before it was interrupted")
            .unwrap();
        if line.starts_with("default/bulk: ") && !line.starts_with("default/bulk: 0/") {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let partial: i64 = db
        .query_text("SELECT COUNT(*)::text FROM documents WHERE collection = 'bulk'")
        .parse()
        .unwrap();
    assert!(
        partial > 0 && partial < 20_000,
        "{partial} documents after the kill"
    );

    let resumed = summary(&migrate(&["--from", &sqlite, "--to", &postgres, "--json"]));
    assert_eq!(resumed["resumed"], true, "{resumed}");
    assert_eq!(resumed["verified"], true, "{resumed}");
    let bulk = &resumed["collections"].as_array().unwrap()[0];
    assert_eq!(bulk["target_documents"], 20_000);
    assert_eq!(
        bulk["skipped"].as_u64().unwrap() + bulk["written"].as_u64().unwrap(),
        20_000
    );
    // Only the bulk collection: the seeding server's own job queue rode along too.
    assert_eq!(
        db.query_text("SELECT COUNT(*)::text FROM documents WHERE collection = 'bulk'"),
        "20000",
        "no duplicates"
    );
    assert_eq!(
        db.query_text("SELECT COUNT(*)::text FROM marcus_meta WHERE key = 'migration_in_progress'"),
        "0"
    );
}

#[test]
fn a_non_empty_target_is_refused_unless_merge_or_overwrite() {
    let Some(db) = PrivateDatabase::create("migrate refusals") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut m = Marcus::start_in(dir.path(), &[]);
    m.put_json("/api/storage/notes/a", &json!({"text": "from solo"}));
    m.put_json("/api/storage/notes/b", &json!({"text": "only in solo"}));
    assert!(m.terminate().success());
    let mut team = Marcus::start_env(&[], &[("DATABASE_URL", &db.url)]);
    team.put_json(
        "/api/storage/notes/a",
        &json!({"text": "edited on the team"}),
    );
    team.put_json("/api/storage/notes/z", &json!({"text": "only on the team"}));
    assert!(team.terminate().success());
    let sqlite = format!("sqlite:{}", dir.path().join("marcus.db").display());
    let postgres = format!("postgres:{}", db.url);

    let refused = migrate(&["--from", &sqlite, "--to", &postgres]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("not empty") && stderr(&refused).contains("--merge"),
        "{}",
        stderr(&refused)
    );

    let merged = migrate(&["--from", &sqlite, "--to", &postgres, "--merge", "--json"]);
    assert!(!merged.status.success(), "a conflict must fail the run");
    assert!(
        stderr(&merged).contains("notes") && stderr(&merged).contains("first: a"),
        "{}",
        stderr(&merged)
    );
    let after_merge = db.query_text("SELECT data->>'text' FROM documents WHERE id = 'a'");
    assert_eq!(
        after_merge, "edited on the team",
        "merge leaves conflicts as they are"
    );
    assert_eq!(
        db.query_text("SELECT COUNT(*)::text FROM documents WHERE id = 'b'"),
        "1"
    );

    let overwritten = summary(&migrate(&[
        "--from",
        &sqlite,
        "--to",
        &postgres,
        "--overwrite",
        "--json",
    ]));
    assert_eq!(overwritten["verified"], true, "{overwritten}");
    assert_eq!(
        db.query_text("SELECT data->>'text' FROM documents WHERE id = 'a'"),
        "from solo"
    );
}

#[test]
fn damaged_foreign_and_unreachable_stores_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let target = format!("sqlite:{}", dir.path().join("out.db").display());

    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "just some text, not a database at all\n".repeat(200)).unwrap();
    let out = migrate(&[
        "--from",
        &format!("sqlite:{}", text.display()),
        "--to",
        &target,
    ]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("not a Marcus database"),
        "{}",
        stderr(&out)
    );

    let foreign = dir.path().join("foreign.db");
    rusqlite::Connection::open(&foreign)
        .unwrap()
        .execute_batch("CREATE TABLE users (id INTEGER);")
        .unwrap();
    let out = migrate(&[
        "--from",
        &format!("sqlite:{}", foreign.display()),
        "--to",
        &target,
    ]);
    assert!(
        stderr(&out).contains("not a Marcus database"),
        "{}",
        stderr(&out)
    );

    let missing = migrate(&["--from", "sqlite:/nonexistent/marcus.db", "--to", &target]);
    assert!(
        stderr(&missing).contains("does not exist"),
        "{}",
        stderr(&missing)
    );

    // A real Marcus database from a newer Marcus, and one with damaged pages.
    let board = tempfile::tempdir().unwrap();
    solo_board(board.path());
    let newer = board.path().join("newer.db");
    std::fs::copy(board.path().join("marcus.db"), &newer).unwrap();
    rusqlite::Connection::open(&newer)
        .unwrap()
        .execute_batch("UPDATE marcus_meta SET value = '99' WHERE key = 'schema_version';")
        .unwrap();
    let out = migrate(&[
        "--from",
        &format!("sqlite:{}", newer.display()),
        "--to",
        &target,
    ]);
    assert!(
        stderr(&out).contains("newer than this marcus"),
        "{}",
        stderr(&out)
    );

    let damaged = board.path().join("damaged.db");
    let mut bytes = std::fs::read(board.path().join("marcus.db")).unwrap();
    assert!(
        bytes.len() > 8192,
        "the board database is {} bytes",
        bytes.len()
    );
    for b in &mut bytes[4096..8192] {
        *b = 0x5a;
    }
    std::fs::write(&damaged, bytes).unwrap();
    let out = migrate(&[
        "--from",
        &format!("sqlite:{}", damaged.display()),
        "--to",
        &target,
    ]);
    assert!(!out.status.success());
    let e = stderr(&out);
    assert!(
        e.contains("damaged") || e.contains("malformed") || e.contains("not a Marcus database"),
        "{e}"
    );

    let unreachable = migrate(&[
        "--from",
        &format!("sqlite:{}", board.path().join("marcus.db").display()),
        "--to",
        "postgres:postgresql://marcus@127.0.0.1:1/none",
    ]);
    assert!(
        stderr(&unreachable).contains("cannot reach PostgreSQL at 127.0.0.1:1/none"),
        "{}",
        stderr(&unreachable)
    );
    let scheme = migrate(&["--from", "mysql://h/db", "--to", &target]);
    assert!(
        stderr(&scheme).contains("sqlite[:PATH] or postgres[:URL]"),
        "{}",
        stderr(&scheme)
    );
    assert!(
        !dir.path().join("out.db").exists(),
        "a refused source must not leave a target behind"
    );
}
