//! Bad input gets clear JSON errors; a guest that traps or spins never takes the host down.

mod common;

use common::Marcus;
use serde_json::json;
use std::time::{Duration, Instant};

#[test]
fn malformed_and_mistyped_requests_are_400() {
    let m = Marcus::start(&[]);
    let a = m.request(
        "PUT",
        "/api/storage/c/d",
        &[("content-type", "application/json")],
        Some(b"{not json"),
    );
    assert_eq!((a.status, a.error_code().as_str()), (400, "bad_request"));
    assert!(a.content_type.starts_with("application/json"));

    let a = m.post_json("/api/storage/c/_query", &json!({"limit": "ten"}));
    assert_eq!((a.status, a.error_code().as_str()), (400, "bad_request"));
    let a = m.post_json("/api/storage/c/_query", &json!({"where": 5}));
    assert_eq!((a.status, a.error_code().as_str()), (400, "bad_request"));
    let a = m.post_json("/api/storage/c/_query", &json!({"limit": 5000}));
    assert_eq!(a.status, 400);
    let a = m.post_json("/api/storage/_batch", &json!({"writes": "all"}));
    assert_eq!(a.status, 400);
    let a = m.request(
        "PUT",
        "/api/storage/c/d",
        &[("if-match", "abc"), ("content-type", "application/json")],
        Some(b"{}"),
    );
    assert_eq!(a.status, 400);
    let a = m.get("/api/realtime/ch?since=-1");
    assert_eq!(a.status, 400);

    let a = m.put_json("/api/storage/c/bad%20id", &json!({}));
    assert_eq!((a.status, a.error_code().as_str()), (400, "invalid"));
    let a = m.put_json("/api/storage/c/_reserved", &json!({}));
    assert_eq!(a.status, 400);
}

#[test]
fn unknown_routes_and_methods() {
    let m = Marcus::start(&[]);
    let a = m.get("/nope");
    assert_eq!((a.status, a.error_code().as_str()), (404, "not_found"));
    let a = m.get("/api/storage/a/b/c");
    assert_eq!(a.status, 404);
    let a = m.request(
        "PATCH",
        "/api/storage/c/d",
        &[("content-type", "application/json")],
        Some(b"{}"),
    );
    assert_eq!(
        (a.status, a.error_code().as_str()),
        (405, "method_not_allowed")
    );
    assert_eq!(a.header("allow").as_deref(), Some("GET, PUT, DELETE"));
    let a = m.request(
        "POST",
        "/api/features",
        &[("content-type", "application/json")],
        Some(b"{}"),
    );
    assert_eq!(a.status, 405);
    assert_eq!(a.header("allow").as_deref(), Some("GET"));
    // The host's own routes say the same.
    let a = m.request(
        "POST",
        "/metrics",
        &[("content-type", "application/json")],
        Some(b"{}"),
    );
    assert_eq!((a.status, a.header("allow").as_deref()), (405, Some("GET")));
    let a = m.request("DELETE", "/api/projects", &[], None);
    assert_eq!(
        (a.status, a.header("allow").as_deref()),
        (405, Some("GET, POST"))
    );
    // An escaped name in the path is the name.
    let a = m.put_json("/api/storage/c/a%3Ab", &json!(1));
    assert_eq!(a.status, 200, "{}", a.text_prefix());
    assert_eq!(m.get("/api/storage/c/a:b").json()["id"], "a:b");
}

#[test]
fn body_size_limit_is_one_mebibyte() {
    let m = Marcus::start(&[]);
    let limit = 1024 * 1024;
    // A JSON string that makes the body exactly the limit.
    let fits = format!("\"{}\"", "a".repeat(limit - 2));
    assert_eq!(fits.len(), limit);
    let a = m.request(
        "PUT",
        "/api/storage/big/ok",
        &[("content-type", "application/json")],
        Some(fits.as_bytes()),
    );
    assert_eq!(
        a.status,
        200,
        "{}",
        String::from_utf8_lossy(&a.body[..a.body.len().min(200)])
    );
    let over = format!("\"{}\"", "a".repeat(limit - 1));
    let a = m.request(
        "PUT",
        "/api/storage/big/too",
        &[("content-type", "application/json")],
        Some(over.as_bytes()),
    );
    assert_eq!(
        (a.status, a.error_code().as_str()),
        (413, "payload_too_large")
    );
    assert_eq!(m.get("/api/storage/big/too").status, 404);
    assert_eq!(m.get("/healthz").status, 200);
}

#[test]
fn guest_trap_and_runaway_loop_answer_500_and_the_host_keeps_serving() {
    let m = Marcus::start(&["--debug-routes", "--request-timeout-ms", "1000"]);
    let a = m.get("/api/debug/trap");
    assert_eq!((a.status, a.error_code().as_str()), (500, "guest_trap"));
    assert_eq!(m.get("/healthz").status, 200);

    let started = Instant::now();
    let a = m.get("/api/debug/spin");
    assert_eq!((a.status, a.error_code().as_str()), (500, "guest_timeout"));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "deadline not enforced: {:?}",
        started.elapsed()
    );
    assert_eq!(m.get("/healthz").status, 200);
    assert_eq!(
        m.put_json("/api/storage/after/trap", &json!({"ok": true}))
            .status,
        200
    );
}

#[test]
fn debug_routes_are_off_by_default() {
    let m = Marcus::start(&[]);
    assert_eq!(m.get("/api/debug/trap").status, 404);
    assert_eq!(m.get("/api/debug/spin").status, 404);
}

#[test]
fn the_boards_collections_are_closed_to_the_raw_storage_api() {
    let m = Marcus::start(&[]);
    let created = m.post_json(
        "/api/projects",
        &json!({"project_name": "p", "tasks": [{"name": "a"}]}),
    );
    assert_eq!(created.status, 201);
    let task = created.json()["tasks"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    for collection in [
        "tasks",
        "projects",
        "mcp_sessions",
        "webhooks",
        "jobs",
        "events",
    ] {
        let refused = [
            m.get(&format!("/api/storage/{collection}/{task}")),
            m.put_json(
                &format!("/api/storage/{collection}/{task}"),
                &json!({"x": 1}),
            ),
            m.delete(&format!("/api/storage/{collection}/{task}")),
            m.post_json(&format!("/api/storage/{collection}/_query"), &json!({})),
            m.post_json(&format!("/api/storage/{collection}/_scan"), &json!({})),
            m.post_json(&format!("/api/storage/{collection}/_count"), &json!({})),
            m.post_json(
                "/api/storage/_batch",
                &json!({"writes": [{"collection": "notes", "id": "n", "data": {}},
                                   {"collection": collection, "id": "x", "data": {}}]}),
            ),
            m.post_json(
                "/api/storage/_get_many",
                &json!({"keys": [{"collection": "notes", "id": "n"},
                                 {"collection": collection, "id": task}]}),
            ),
            m.post_json(
                "/api/storage/_read_many",
                &json!({"reads": [{"get": {"collection": "notes", "id": "n"}},
                                  {"get": {"collection": collection, "id": task}}]}),
            ),
            m.post_json(
                "/api/storage/_read_many",
                &json!({"reads": [{"query": {"collection": collection}}]}),
            ),
        ];
        for a in refused {
            assert_eq!(
                a.error(),
                (403, "reserved_collection".into()),
                "{collection}"
            );
        }
    }
    // The refused batch wrote nothing, the board is intact, other collections still work.
    assert_eq!(m.get("/api/storage/notes/n").status, 404);
    assert_eq!(m.get(&format!("/api/tasks/{task}")).status, 200);
    let listed = m.get("/api/storage").json();
    assert!(
        !listed["collections"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "tasks" || c == "projects"),
        "{listed}"
    );
    assert_eq!(
        m.put_json("/api/storage/notes/n", &json!({"ok": 1})).status,
        200
    );
}

#[test]
fn an_unreadable_document_is_skipped_and_reported_not_a_500() {
    // `--debug-routes` opens the board's collections to plant the damaged record.
    let m = Marcus::start(&["--debug-routes"]);
    let created = m.post_json(
        "/api/projects",
        &json!({"project_name": "p", "tasks": [{"name": "a"}, {"name": "b"}]}),
    );
    let project = created.json()["project_id"].as_str().unwrap().to_string();
    let planted = m.put_json(
        "/api/storage/tasks/tsk-damaged",
        &json!({"project_id": project, "name": 5, "status": ["not", "a", "status"]}),
    );
    assert_eq!(planted.status, 200);
    for path in [
        "/api/projects".to_string(),
        format!("/api/projects/{project}"),
        format!("/api/projects/{project}/tasks"),
    ] {
        let a = m.request("GET", &path, &[("cache-control", "no-cache")], None);
        assert_eq!(a.status, 200, "{path}: {}", a.text_prefix());
        assert_eq!(
            a.header("x-marcus-unreadable").as_deref(),
            Some("tasks/tsk-damaged"),
            "{path}"
        );
    }
    let listed = m.get(&format!("/api/projects/{project}/tasks")).json();
    assert_eq!(
        listed["tasks"].as_array().map(Vec::len),
        Some(2),
        "{listed}"
    );
    let metrics = String::from_utf8(m.get("/metrics").body).unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("marcus_unreadable_documents_total{collection=\"tasks\"}")),
        "{metrics}"
    );
    assert!(m.stderr_text().contains("tsk-damaged"), "no log line");
}

#[test]
fn realtime_events_are_capped_and_polls_are_paged() {
    let m = Marcus::start(&[]);
    let huge = json!({"blob": "x".repeat(1024 * 1024 - 64)});
    let a = m.post_json("/api/realtime/big", &huge);
    assert_eq!(a.error(), (413, "payload_too_large".into()));
    let event = json!({"blob": "y".repeat(60 * 1024)});
    for _ in 0..200 {
        assert_eq!(m.post_json("/api/realtime/big", &event).status, 200);
    }
    // A channel keeps at most 4 MiB: the oldest events went first.
    let mut since = 0;
    let mut seen = 0;
    let mut pages = 0;
    loop {
        let page = m.get(&format!("/api/realtime/big?since={since}&limit=1000"));
        assert_eq!(page.status, 200, "{}", page.text_prefix());
        assert!(
            page.body.len() <= 1024 * 1024 + 4096,
            "a page of {} bytes",
            page.body.len()
        );
        let page = page.json();
        let events = page["events"].as_array().unwrap();
        if events.is_empty() {
            assert_eq!(page["latest"], 200);
            assert!(page["oldest"].as_u64().unwrap() > 100, "{}", page["oldest"]);
            break;
        }
        seen += events.len();
        pages += 1;
        since = events.last().unwrap()["seq"].as_u64().unwrap();
    }
    assert!(pages >= 4, "{pages} pages");
    assert!(
        seen * 60 * 1024 <= 4 * 1024 * 1024 + 60 * 1024,
        "{seen} events kept"
    );
    assert_eq!(m.get("/healthz").status, 200);
}
