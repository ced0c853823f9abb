//! The audit log end to end: every change and refusal has its record, only a tenant's admins
//! read it, `marcus audit verify` names the first bad sequence number for each kind of
//! tampering on SQLite and PostgreSQL, two hosts keep one unbroken chain, and a `kill -9`
//! loses no acknowledged change's record.

mod common;

use common::cli;
use common::team::PrivateDatabase;
use common::{Answer, Marcus};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Output;

fn with(m: &Marcus, token: &str, method: &str, path: &str, body: Option<&Value>) -> Answer {
    let auth = format!("Bearer {token}");
    let mut headers = vec![("authorization", auth.as_str())];
    if body.is_some() {
        headers.push(("content-type", "application/json"));
    }
    let bytes = body.map(|b| b.to_string().into_bytes());
    m.request(method, path, &headers, bytes.as_deref())
}

fn make_token(dir: &Path, db: Option<&str>, name: &str, role: &str) -> String {
    cli::ok(
        dir,
        db,
        &["token", "create", "--role", role, "--name", name, "--quiet"],
    )
    .trim()
    .to_string()
}

fn audit(dir: &Path, db: Option<&str>, args: &[&str]) -> Output {
    let mut all = vec!["audit"];
    all.extend_from_slice(args);
    cli::output(dir, db, &all)
}

/// The exported records of every tenant, oldest first.
fn exported(dir: &Path, db: Option<&str>) -> Vec<Value> {
    let out = audit(dir, db, &["export"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `marcus audit verify`'s exit status and output.
fn verify(dir: &Path, db: Option<&str>) -> (bool, String) {
    let out = audit(dir, db, &["verify"]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn create_project(m: &Marcus, token: Option<&str>, name: &str) -> Answer {
    let body = json!({"project_name": name, "description": "d"});
    match token {
        Some(t) => with(m, t, "POST", "/api/tools/create_project", Some(&body)),
        None => m.post_json("/api/tools/create_project", &body),
    }
}

#[test]
fn changes_and_refusals_are_recorded_and_only_admins_read_them() {
    let dir = tempfile::tempdir().unwrap();
    let admin = make_token(dir.path(), None, "root", "admin");
    let viewer = make_token(dir.path(), None, "watcher", "viewer");
    let m = Marcus::start_in(dir.path(), &["--require-auth"]);

    let made = create_project(&m, Some(&admin), "audited");
    assert_eq!(made.status, 200, "{}", made.text_prefix());
    let refused = create_project(&m, Some(&viewer), "not allowed");
    assert_eq!(refused.status, 403, "{}", refused.text_prefix());
    assert_eq!(create_project(&m, None, "nobody").status, 401);
    assert_eq!(
        with(
            &m,
            "mcs_notarealtokenatallnotarealtokenatal",
            "GET",
            "/api/projects",
            None
        )
        .status,
        401
    );

    // Admins read their tenant's records, newest first; nobody else does.
    assert_eq!(with(&m, &viewer, "GET", "/api/audit", None).status, 403);
    assert_eq!(m.get("/api/audit").status, 401);
    let page = with(&m, &admin, "GET", "/api/audit?limit=1000", None);
    assert_eq!(page.status, 200, "{}", page.text_prefix());
    let records = page.json()["records"].as_array().unwrap().clone();
    let find = |action: &str, outcome: &str| {
        records
            .iter()
            .find(|r| r["action"] == action && r["outcome"] == outcome)
            .unwrap_or_else(|| panic!("no {action} {outcome} in {records:#?}"))
            .clone()
    };
    let created = find("project.create", "success");
    assert_eq!(created["actor"]["id"], "root");
    assert_eq!(created["actor"]["verified_by"], "token");
    assert!(
        created["actor"]["token_id"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    assert_eq!(created["request"]["method"], "POST");
    assert_eq!(created["request"]["path"], "/api/tools/create_project");
    assert!(!created["request"]["id"].as_str().unwrap().is_empty());
    let denied = find("project.create", "denied");
    assert_eq!(denied["actor"]["id"], "watcher");
    assert!(find("token.create", "success")["request"]["method"] == "CLI");
    let seqs: Vec<u64> = records.iter().map(|r| r["seq"].as_u64().unwrap()).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] > w[1]),
        "newest first: {seqs:?}"
    );

    // Filters and paging.
    let only = with(
        &m,
        &admin,
        "GET",
        "/api/audit?outcome=denied&actor=watcher",
        None,
    )
    .json();
    assert!(
        only["records"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["outcome"] == "denied")
    );
    assert!(!only["records"].as_array().unwrap().is_empty());
    let first = with(&m, &admin, "GET", "/api/audit?limit=2", None).json();
    let cursor = first["next_cursor"].as_str().unwrap().to_string();
    let next = with(
        &m,
        &admin,
        "GET",
        &format!("/api/audit?limit=2&cursor={cursor}"),
        None,
    )
    .json();
    assert!(
        next["records"][0]["seq"].as_u64().unwrap()
            < first["records"][1]["seq"].as_u64().unwrap() + 1
    );
    assert_eq!(
        with(&m, &admin, "GET", "/api/audit?limit=0", None).error(),
        (400, "invalid_query".into())
    );
    assert_eq!(
        with(&m, &admin, "POST", "/api/audit", Some(&json!({}))).status,
        405
    );

    // Requests without credentials are recorded in the server's own chain.
    drop(m);
    let all = exported(dir.path(), None);
    assert!(
        all.iter().any(|r| r["tenant"] == "_server"
            && r["action"] == "auth.unauthorized"
            && r["outcome"] == "denied"),
        "{all:#?}"
    );
    // No token ever reaches a record.
    let text = serde_json::to_string(&all).unwrap();
    assert!(!text.contains(&admin) && !text.contains(&viewer));
    let (ok, said) = verify(dir.path(), None);
    assert!(ok && said.contains("intact"), "{said}");
}

/// Makes a board with enough records for several checkpoints, then stops the server.
fn board_with_history(dir: &Path, db: Option<&str>) {
    let env: Vec<(&str, &str)> = db.map(|u| vec![("DATABASE_URL", u)]).unwrap_or_default();
    let m = Marcus::spawn(Some(dir), &["--audit-checkpoint-every", "5"], &env);
    for i in 0..12 {
        assert_eq!(create_project(&m, None, &format!("p{i}")).status, 200);
    }
    drop(m);
    let out = audit(dir, db, &["checkpoint"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The records' (seq) of the default tenant.
fn default_seqs(dir: &Path, db: Option<&str>) -> Vec<u64> {
    exported(dir, db)
        .iter()
        .filter(|r| r["tenant"] == "default")
        .map(|r| r["seq"].as_u64().unwrap())
        .collect()
}

fn broken_at(dir: &Path, db: Option<&str>) -> u64 {
    let (ok, said) = verify(dir, db);
    assert!(!ok, "tampering went unnoticed: {said}");
    let at = said
        .split("BROKEN at sequence number ")
        .nth(1)
        .unwrap_or_else(|| panic!("{said}"));
    at.split(':').next().unwrap().trim().parse().unwrap()
}

#[test]
fn every_kind_of_tampering_is_named_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    board_with_history(dir.path(), None);
    let seqs = default_seqs(dir.path(), None);
    assert!(seqs.len() >= 12, "{seqs:?}");
    assert!(verify(dir.path(), None).0);
    let db = dir.path().join("marcus.db");
    let pristine = std::fs::read(&db).unwrap();
    let sql = |statements: &str| {
        let c = rusqlite::Connection::open(&db).unwrap();
        c.execute_batch(statements).unwrap();
    };
    // The table refuses changes by itself.
    {
        let c = rusqlite::Connection::open(&db).unwrap();
        let refused = c.execute("UPDATE audit_log SET action = 'x' WHERE seq = 3", []);
        assert!(refused.unwrap_err().to_string().contains("append-only"));
        let refused = c.execute(
            "DELETE FROM audit_log WHERE tenant = 'default'
               AND seq = (SELECT MAX(seq) FROM audit_log WHERE tenant = 'default')",
            [],
        );
        assert!(
            refused.is_err(),
            "the record the last checkpoint vouches for cannot go"
        );
        assert!(c.execute("DELETE FROM audit_checkpoints", []).is_err());
    }
    let cases: [(&str, u64); 4] = [
        // An edited field (the body's target).
        ("DROP TRIGGER audit_log_no_update;
          UPDATE audit_log SET body = replace(body, 'project.create', 'project.remove') WHERE tenant = 'default' AND seq = 4", 4),
        // A record removed from the middle.
        ("DROP TRIGGER audit_log_no_delete;
          DELETE FROM audit_log WHERE tenant = 'default' AND seq = 6", 6),
        // Two records swapped.
        ("DROP TRIGGER audit_log_no_update;
          UPDATE audit_log SET seq = -1 WHERE tenant = 'default' AND seq = 7;
          UPDATE audit_log SET seq = 7 WHERE tenant = 'default' AND seq = 8;
          UPDATE audit_log SET seq = 8 WHERE tenant = 'default' AND seq = -1", 7),
        // The tail truncated, behind a checkpoint.
        ("DROP TRIGGER audit_log_no_delete;
          DELETE FROM audit_log WHERE tenant = 'default' AND seq > 9", 10),
    ];
    for (tamper, expected) in cases {
        std::fs::write(&db, &pristine).unwrap();
        let _ = std::fs::remove_file(dir.path().join("marcus.db-wal"));
        sql(tamper);
        assert_eq!(broken_at(dir.path(), None), expected, "{tamper}");
    }
    std::fs::write(&db, &pristine).unwrap();
    assert!(
        verify(dir.path(), None).0,
        "the untouched log verifies again"
    );

    // Retention removes only what a checkpoint vouches for, and the rest still verifies.
    let out = audit(
        dir.path(),
        None,
        &["prune", "--tenant", "default", "--before-seq", "100"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let left = default_seqs(dir.path(), None);
    assert!(left.len() < seqs.len() && !left.is_empty(), "{left:?}");
    let (ok, said) = verify(dir.path(), None);
    assert!(ok, "{said}");
    // A key other than the one that signed is not trusted.
    let other = "ab".repeat(32);
    let out = audit(dir.path(), None, &["verify", "--public-key", &other]);
    assert!(!out.status.success());
}

#[test]
fn every_kind_of_tampering_is_named_on_postgres() {
    let Some(pg) = PrivateDatabase::create("audit") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let url = Some(pg.url.as_str());
    board_with_history(dir.path(), url);
    assert!(verify(dir.path(), url).0);
    let mut client = postgres::Client::connect(&pg.url, postgres::NoTls).unwrap();
    // The app role has no right to change or remove records, and the owner is held by the
    // trigger.
    let as_app = client.batch_execute(
        "BEGIN; SET LOCAL ROLE marcus_app; SELECT set_config('marcus.tenant', 'default', true);
         UPDATE audit_log SET action = 'x' WHERE seq = 3; COMMIT",
    );
    assert!(db_message(as_app).contains("permission denied"));
    client.batch_execute("ROLLBACK").unwrap();
    let as_owner = client.batch_execute(
        "BEGIN; SELECT set_config('marcus.tenant', 'default', true);
         UPDATE audit_log SET action = 'x' WHERE seq = 3; COMMIT",
    );
    assert!(db_message(as_owner).contains("append-only"));
    client.batch_execute("ROLLBACK").unwrap();

    client
        .batch_execute("CREATE TABLE audit_log_copy AS SELECT * FROM audit_log")
        .unwrap();
    let cases: [(&str, u64); 4] = [
        (
            "UPDATE audit_log SET body = replace(body, 'project.create', 'project.remove') WHERE tenant = 'default' AND seq = 4",
            4,
        ),
        (
            "DELETE FROM audit_log WHERE tenant = 'default' AND seq = 6",
            6,
        ),
        (
            "UPDATE audit_log SET seq = -1 WHERE tenant = 'default' AND seq = 7;
          UPDATE audit_log SET seq = 7 WHERE tenant = 'default' AND seq = 8;
          UPDATE audit_log SET seq = 8 WHERE tenant = 'default' AND seq = -1",
            7,
        ),
        (
            "DELETE FROM audit_log WHERE tenant = 'default' AND seq > 9",
            10,
        ),
    ];
    // The test connects as a superuser, which neither row-level security nor (with
    // replication's role) the append-only trigger holds back: an attacker with the keys
    // to the database.
    for (tamper, expected) in cases {
        client
            .batch_execute(&format!(
                "BEGIN; SET LOCAL session_replication_role = replica; {tamper}; COMMIT"
            ))
            .unwrap();
        assert_eq!(broken_at(dir.path(), url), expected, "{tamper}");
        client
            .batch_execute(
                "BEGIN; SET LOCAL session_replication_role = replica;
                 DELETE FROM audit_log; INSERT INTO audit_log SELECT * FROM audit_log_copy;
                 COMMIT",
            )
            .unwrap();
        assert!(verify(dir.path(), url).0, "restored after {tamper}");
    }
    drop(client);
    drop(pg);
}

/// The database's message for a statement that had to fail.
fn db_message(result: Result<(), postgres::Error>) -> String {
    let e = result.expect_err("the statement was refused");
    e.as_db_error()
        .map(|d| d.message().to_string())
        .unwrap_or_else(|| e.to_string())
}

/// The hex public key of the signing key whose seed is `seed`.
fn public_key_of(seed: &str) -> String {
    let key = marcus_core::audit::checkpoint::signing_key(seed).unwrap();
    marcus_core::audit::chain::hex(key.verifying_key().as_bytes())
}

#[test]
fn two_hosts_writing_at_once_keep_one_unbroken_chain() {
    let Some(pg) = PrivateDatabase::create("audit") else {
        return;
    };
    let seed = "5a".repeat(32);
    let env = [
        ("DATABASE_URL", pg.url.as_str()),
        ("MARCUS_AUDIT_SIGNING_KEY", seed.as_str()),
    ];
    let a = Marcus::start_env(&["--audit-checkpoint-every", "7"], &env);
    let b = Marcus::start_env(&["--audit-checkpoint-every", "7"], &env);
    std::thread::scope(|s| {
        for (i, host) in [&a, &b, &a, &b, &a, &b].into_iter().enumerate() {
            s.spawn(move || {
                for j in 0..15 {
                    let made = create_project(host, None, &format!("h{i}-{j}"));
                    assert_eq!(made.status, 200, "{}", made.text_prefix());
                }
            });
        }
    });
    drop(a);
    drop(b);
    let dir = tempfile::tempdir().unwrap();
    let url = Some(pg.url.as_str());
    let records: Vec<Value> = exported(dir.path(), url)
        .into_iter()
        .filter(|r| r["tenant"] == "default")
        .collect();
    let created = records
        .iter()
        .filter(|r| r["action"] == "project.create" && r["outcome"] == "success")
        .count();
    assert_eq!(created, 90, "one record per acknowledged change");
    let seqs: Vec<u64> = records.iter().map(|r| r["seq"].as_u64().unwrap()).collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as u64).collect::<Vec<_>>(),
        "no gap, no fork"
    );
    let key = public_key_of(&seed);
    let out = audit(dir.path(), url, &["verify", "--public-key", &key]);
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("signed checkpoints"), "{said}");
    let checkpoints: u64 = said
        .split("), ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(
        checkpoints >= 10,
        "checkpoints from both hosts chain: {said}"
    );
}

#[test]
fn an_acknowledged_change_keeps_its_record_through_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let mut m = Marcus::start_in(dir.path(), &[]);
    let acknowledged = std::sync::Mutex::new(Vec::new());
    let stop = std::sync::atomic::AtomicBool::new(false);
    let url = m.url.clone();
    std::thread::scope(|s| {
        for t in 0..6 {
            let (url, acknowledged, stop) = (&url, &acknowledged, &stop);
            s.spawn(move || {
                for j in 0.. {
                    if stop.load(std::sync::atomic::Ordering::Relaxed) {
                        break;
                    }
                    let name = format!("k{t}-{j}");
                    let agent = ureq::AgentBuilder::new()
                        .timeout(std::time::Duration::from_secs(5))
                        .build();
                    let sent = agent
                        .post(&format!("{url}/api/tools/create_project"))
                        .send_json(json!({"project_name": name, "description": "d"}));
                    match sent {
                        Ok(r) if r.status() == 200 => acknowledged.lock().unwrap().push(name),
                        _ => break,
                    }
                }
            });
        }
        std::thread::sleep(std::time::Duration::from_millis(1500));
        m.kill9();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    let acknowledged = acknowledged.into_inner().unwrap();
    assert!(
        acknowledged.len() > 10,
        "the load ran: {}",
        acknowledged.len()
    );
    let records = exported(dir.path(), None);
    let recorded: std::collections::HashSet<&str> = records
        .iter()
        .filter(|r| r["action"] == "project.create" && r["outcome"] == "success")
        .filter_map(|r| r["target"]["id"].as_str())
        .collect();
    let missing: Vec<&String> = acknowledged
        .iter()
        .filter(|n| !recorded.contains(n.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "acknowledged without a record: {missing:?}"
    );
    let (ok, said) = verify(dir.path(), None);
    assert!(ok, "{said}");
}

#[test]
fn a_tenant_admin_reads_only_their_own_tenant_s_records() {
    let dir = tempfile::tempdir().unwrap();
    let mut admins = Vec::new();
    for tenant in ["acme", "globex"] {
        cli::ok(dir.path(), None, &["tenant", "create", tenant]);
        let token = cli::ok(
            dir.path(),
            None,
            &[
                "token", "create", "--tenant", tenant, "--role", "admin", "--name", "ops",
                "--quiet",
            ],
        );
        admins.push((tenant, token.trim().to_string()));
    }
    let m = Marcus::start_in(dir.path(), &["--require-auth"]);
    for (tenant, token) in &admins {
        let made = create_project(&m, Some(token), &format!("{tenant}-plan"));
        assert_eq!(made.status, 200, "{}", made.text_prefix());
    }
    for (tenant, token) in &admins {
        let page = with(&m, token, "GET", "/api/audit?limit=1000", None);
        assert_eq!(page.status, 200, "{}", page.text_prefix());
        let page = page.json();
        assert_eq!(page["tenant"], *tenant);
        let records = page["records"].as_array().unwrap();
        assert!(
            records
                .iter()
                .any(|r| r["target"]["id"] == format!("{tenant}-plan")),
            "{records:#?}"
        );
        assert!(
            records.iter().all(|r| r["tenant"] == *tenant),
            "{records:#?}"
        );
        let other = if *tenant == "acme" { "globex" } else { "acme" };
        let text = serde_json::to_string(records).unwrap();
        assert!(!text.contains(&format!("{other}-plan")), "{text}");
        // Naming another tenant is no way in: the parameter does not exist.
        let crossing = with(
            &m,
            token,
            "GET",
            &format!("/api/audit?tenant={other}"),
            None,
        );
        assert_eq!(crossing.error(), (400, "invalid_query".into()));
    }
}
