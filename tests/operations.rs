//! Operations: the Prometheus scrape (checked by promtool and by a real Prometheus server),
//! readiness, request ids and JSON logs.

mod common;

use common::Marcus;
use common::board::ok;
use common::team::{PrivateDatabase, PrivateRedis, skip, wait_until};
use serde_json::{Value, json};
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Some traffic of every kind the metrics describe.
fn traffic(m: &Marcus) -> String {
    m.put_json("/api/storage/notes/n1", &json!({"a": 1}));
    m.get("/api/storage/notes/n1");
    m.request(
        "PUT",
        "/api/cache/k",
        &[("content-type", "application/octet-stream")],
        Some(b"v"),
    );
    m.get("/api/cache/k");
    m.get("/api/cache/missing");
    let created = ok(
        m,
        "create_project",
        json!({"project_name": "ops", "tasks": [{"name": "a"}, {"name": "b"}]}),
    );
    let project = created["project_id"].as_str().unwrap().to_string();
    ok(
        m,
        "register_agent",
        json!({"agent_id": "ag", "name": "ag", "role": "dev", "project_id": project}),
    );
    let next = ok(m, "request_next_task", json!({"agent_id": "ag"}));
    let task = next["task"]["id"].as_str().unwrap();
    ok(
        m,
        "report_task_progress",
        json!({"agent_id": "ag", "task_id": task, "status": "in_progress", "progress": 50}),
    );
    project
}

/// The value of the first sample line starting with `prefix`.
fn sample(scrape: &str, prefix: &str) -> Option<f64> {
    scrape
        .lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[test]
fn metrics_scrape_is_valid_and_counts_what_happened() {
    let m = Marcus::start(&[]);
    let project = traffic(&m);
    let scrape = m.get("/metrics");
    assert_eq!(scrape.status, 200);
    assert_eq!(scrape.content_type, "text/plain");
    let text = String::from_utf8(scrape.body).unwrap();

    assert!(sample(&text, "marcus_http_requests_total{route=\"/api/storage/{id}/{id}\",method=\"PUT\",status=\"200\"}").is_some_and(|v| v >= 1.0), "{text}");
    assert!(
        text.contains("marcus_component_instantiation_seconds_bucket"),
        "{text}"
    );
    assert!(
        text.contains(
            "marcus_storage_operation_duration_seconds_bucket{backend=\"sqlite\",operation=\"get\""
        ),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "marcus_cache_requests_total{layer=\"memory\",result=\"hit\"}"
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &text,
            "marcus_cache_requests_total{layer=\"memory\",result=\"miss\"}"
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(&text, "marcus_leases_total{event=\"granted\"}"),
        Some(1.0)
    );
    assert_eq!(
        sample(&text, "marcus_leases_total{event=\"renewed\"}"),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &text,
            &format!(
                "marcus_tasks{{tenant=\"default\",project=\"{project}\",status=\"in_progress\"}}"
            )
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &text,
            &format!("marcus_tasks{{tenant=\"default\",project=\"{project}\",status=\"todo\"}}")
        ),
        Some(1.0)
    );
    assert!(
        sample(
            &text,
            "marcus_realtime_events_published_total{backend=\"in-process\"}"
        )
        .is_some_and(|v| v >= 4.0),
        "{text}"
    );

    // A stale compare-and-swap shows up as a conflict.
    m.request(
        "PUT",
        "/api/storage/notes/n1",
        &[("if-match", "7"), ("content-type", "application/json")],
        Some(b"{}"),
    );
    let again = String::from_utf8(m.get("/metrics").body).unwrap();
    assert_eq!(
        sample(
            &again,
            "marcus_storage_cas_conflicts_total{backend=\"sqlite\"}"
        ),
        Some(1.0)
    );

    promtool_accepts(&again, "promtool check metrics");
}

#[test]
fn platform_calls_are_counted_and_told_only_when_asked() {
    let m = Marcus::start(&[]);
    m.put_json("/api/storage/notes/n1", &json!({"a": 1}));
    let asked = [("x-marcus-platform-calls", "1")];
    // A raw read is one storage call; a read of three documents is one call too.
    let one = m.request("GET", "/api/storage/notes/n1", &asked, None);
    assert_eq!(one.status, 200);
    assert_eq!(one.header("x-marcus-platform-calls").as_deref(), Some("1"));
    let keys = json!({"keys": [
        {"collection": "notes", "id": "n1"},
        {"collection": "notes", "id": "n2"},
        {"collection": "notes", "id": "n1"}
    ]});
    let many = m.request(
        "POST",
        "/api/storage/_get_many",
        &[asked[0], ("content-type", "application/json")],
        Some(keys.to_string().as_bytes()),
    );
    assert_eq!(many.status, 200, "{}", many.text_prefix());
    assert_eq!(many.header("x-marcus-platform-calls").as_deref(), Some("1"));
    // The answer is the same either way, and unasked requests get no header.
    let plain = m.get("/api/storage/notes/n1");
    assert_eq!(plain.header("x-marcus-platform-calls"), None);
    assert_eq!(plain.body, one.body);
    // The scrape counts them by interface and function.
    let scrape = String::from_utf8(m.get("/metrics").body).unwrap();
    assert_eq!(
        sample(
            &scrape,
            "marcus_platform_calls_total{interface=\"storage\",function=\"get-many\"} "
        ),
        Some(1.0),
        "{scrape}"
    );
    assert!(
        sample(
            &scrape,
            "marcus_platform_calls_total{interface=\"storage\",function=\"get\"} "
        )
        .is_some_and(|n| n >= 2.0),
        "{scrape}"
    );
}

/// The metric families a scrape describes (`# TYPE` lines).
fn families(scrape: &str) -> std::collections::BTreeSet<String> {
    scrape
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

#[test]
fn every_family_is_exported_from_the_first_scrape_at_zero() {
    let m = Marcus::start(&[]);
    let first = String::from_utf8(m.get("/metrics").body).unwrap();
    // Traffic of every kind, a refused browser request and a conflict among it.
    traffic(&m);
    m.request(
        "PUT",
        "/api/storage/notes/n1",
        &[("if-match", "7"), ("content-type", "application/json")],
        Some(b"{}"),
    );
    m.request(
        "POST",
        "/api/projects",
        &[("origin", "https://elsewhere.example")],
        Some(b"{}"),
    );
    let later = String::from_utf8(m.get("/metrics").body).unwrap();
    let at_start = families(&first);
    let after_traffic = families(&later);
    let late: Vec<&String> = after_traffic.difference(&at_start).collect();
    assert!(
        late.is_empty(),
        "families that appeared only after traffic: {late:?}\n{first}"
    );
    assert!(at_start.len() >= 20, "{at_start:?}");
    // Series whose labels are known at start are there, at zero, before anything moved them.
    for series in [
        "marcus_leases_total{event=\"granted\"}",
        "marcus_leases_total{event=\"expired\"}",
        "marcus_requests_refused_total{reason=\"origin_not_allowed\"}",
        "marcus_jobs_total{job=\"project-health\",outcome=\"dead\"}",
        "marcus_storage_cas_conflicts_total{backend=\"sqlite\"}",
        "marcus_storage_errors_total{backend=\"sqlite\",operation=\"put_many\",kind=\"unavailable\"}",
        "marcus_cache_requests_total{layer=\"memory\",result=\"miss\"}",
        "marcus_read_cache_total{route=\"/mcp\",result=\"shared\"}",
        "marcus_push_subscribers{transport=\"websocket\"}",
        "marcus_realtime_events_published_total{backend=\"in-process\"}",
        "marcus_connections_refused_total{answer=\"503\"}",
        "marcus_header_timeouts_total",
        "marcus_webhook_destinations_refused_total",
        "marcus_platform_calls_total{interface=\"storage\",function=\"get-many\"}",
        "marcus_platform_calls_total{interface=\"realtime\",function=\"publish\"}",
    ] {
        assert_eq!(
            sample(&first, &format!("{series} ")),
            Some(0.0),
            "{series} in\n{first}"
        );
    }
    assert!(
        first.contains(
            "marcus_http_request_duration_seconds_count{route=\"/metrics\",method=\"GET\"} 0"
        ),
        "{first}"
    );
    // And they count: the refusal and the conflict moved their series.
    assert_eq!(
        sample(
            &later,
            "marcus_requests_refused_total{reason=\"origin_not_allowed\"} "
        ),
        Some(1.0),
        "{later}"
    );
    assert_eq!(
        sample(
            &later,
            "marcus_storage_cas_conflicts_total{backend=\"sqlite\"} "
        ),
        Some(1.0),
        "{later}"
    );
    promtool_accepts(&first, "promtool check of the first scrape");
}

/// Asserts that `promtool check metrics` accepts `scrape`; without promtool the check is
/// reported as skipped (`what`).
fn promtool_accepts(scrape: &str, what: &str) {
    let Some(promtool) = which("promtool") else {
        skip(what, "promtool (Debian package prometheus)");
        return;
    };
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(scrape.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn which(program: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(program))
            .find(|p| p.is_file())
    })
}

#[test]
fn a_prometheus_server_scrapes_marcus() {
    let Some(prometheus) = which("prometheus") else {
        skip(
            "Prometheus scrape",
            "the prometheus server (Debian package prometheus)",
        );
        return;
    };
    let m = Marcus::start(&[]);
    traffic(&m);
    let dir = tempfile::tempdir().unwrap();
    let target = m.url.trim_start_matches("http://");
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: marcus\n    static_configs:\n      - targets: ['{target}']\n"),
    )
    .unwrap();
    let port = PrivateRedis::free_port();
    let mut server = Command::new(prometheus)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let query = format!("http://127.0.0.1:{port}/api/v1/query?query=marcus_http_requests_total");
    let mut last = Value::Null;
    let seen = wait_until(Duration::from_secs(60), || {
        m.get("/healthz");
        let Ok(resp) = ureq::get(&query).call() else {
            return false;
        };
        last = resp.into_json().unwrap_or(Value::Null);
        last["data"]["result"]
            .as_array()
            .is_some_and(|r| !r.is_empty())
    });
    let _ = server.kill();
    let _ = server.wait();
    assert!(
        seen.is_some(),
        "Prometheus never returned marcus_http_requests_total: {last}"
    );
    let series = last["data"]["result"].as_array().unwrap();
    assert!(
        series
            .iter()
            .any(|s| s["metric"]["job"] == "marcus" && s["metric"]["route"].is_string()),
        "{last}"
    );
}

#[test]
fn readiness_follows_storage_and_request_ids_follow_requests() {
    let m = Marcus::start(&[]);
    let ready = m.get("/readyz");
    assert_eq!(ready.status, 200);
    assert_eq!(ready.json()["checks"]["storage"]["healthy"], true);

    let given = m.request(
        "GET",
        "/api/features",
        &[("x-request-id", "trace-abc-123")],
        None,
    );
    assert_eq!(given.status, 200);
    let echoed = ureq::get(&format!("{}/healthz", m.url))
        .set("x-request-id", "trace-abc-123")
        .call()
        .unwrap();
    assert_eq!(echoed.header("x-request-id"), Some("trace-abc-123"));
    let fresh = ureq::get(&format!("{}/healthz", m.url)).call().unwrap();
    let id = fresh.header("x-request-id").unwrap_or("").to_string();
    assert!(!id.is_empty(), "a request id is generated");
    let other = ureq::get(&format!("{}/healthz", m.url)).call().unwrap();
    assert_ne!(other.header("x-request-id"), Some(id.as_str()));

    let Some(db) = PrivateDatabase::create("readiness on PostgreSQL") else {
        return;
    };
    let pg = Marcus::start_env(&[], &[("DATABASE_URL", &db.url)]);
    assert_eq!(pg.get("/readyz").status, 200);
    db.cut_off();
    let down = pg.get("/readyz");
    assert_eq!(down.status, 503);
    assert_eq!(down.json()["status"], "not_ready");
    db.restore();
    assert!(wait_until(Duration::from_secs(20), || pg.get("/readyz").status == 200).is_some());
}

#[test]
fn json_logs_carry_the_request_id() {
    let m = Marcus::start_env(
        &["--log-format", "json"],
        &[("RUST_LOG", "marcus_host=debug")],
    );
    m.request(
        "GET",
        "/api/features",
        &[("x-request-id", "log-me-42")],
        None,
    );
    let found = wait_until(Duration::from_secs(5), || {
        m.stderr_text().contains("log-me-42")
    });
    let logs = m.stderr_text();
    assert!(found.is_some(), "{logs}");
    let line = logs.lines().find(|l| l.contains("log-me-42")).unwrap();
    let record: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    assert_eq!(record["span"]["id"], "log-me-42", "{record}");
    assert_eq!(record["span"]["route"], "/api/features");
}
