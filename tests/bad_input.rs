//! Bad input gets clear JSON errors; a guest that traps or spins never takes the host down.

mod common;

use common::Marcus;
use serde_json::json;
use std::time::{Duration, Instant};

#[test]
fn malformed_and_mistyped_requests_are_400() {
    let m = Marcus::start(&[]);
    let a = m.request("PUT", "/api/storage/c/d", &[], Some(b"{not json"));
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
        &[("if-match", "abc")],
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
    let a = m.request("PATCH", "/api/storage/c/d", &[], Some(b"{}"));
    assert_eq!(
        (a.status, a.error_code().as_str()),
        (405, "method_not_allowed")
    );
    assert_eq!(a.header("allow").as_deref(), Some("GET, PUT, DELETE"));
    let a = m.request("POST", "/api/features", &[], Some(b"{}"));
    assert_eq!(a.status, 405);
    assert_eq!(a.header("allow").as_deref(), Some("GET"));
    // The host's own routes say the same.
    let a = m.request("POST", "/metrics", &[], Some(b"{}"));
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
    let a = m.request("PUT", "/api/storage/big/ok", &[], Some(fits.as_bytes()));
    assert_eq!(
        a.status,
        200,
        "{}",
        String::from_utf8_lossy(&a.body[..a.body.len().min(200)])
    );
    let over = format!("\"{}\"", "a".repeat(limit - 1));
    let a = m.request("PUT", "/api/storage/big/too", &[], Some(over.as_bytes()));
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
