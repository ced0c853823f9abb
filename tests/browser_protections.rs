//! What a hostile web page can send to a Marcus on loopback, sent here the way a browser
//! sends it (foreign `Origin`, a rebound `Host`, "simple" content types, a WebSocket
//! upgrade), and the refusals, with the server still serving afterwards. The browser itself
//! runs the same attacks in the dashboard suite.

mod common;

use common::Marcus;
use serde_json::json;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

const EVIL: &str = "http://evil.example";

/// Sends one raw HTTP/1.1 request (so `Host` is exactly what the test says) and returns
/// the status and the whole response text.
fn raw(m: &Marcus, request: &str) -> (u16, String) {
    let addr = m.url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf);
                // A 101 keeps the connection open: the head is all there is to read.
                if text.starts_with("HTTP/1.1 101") && text.contains("\r\n\r\n") {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

fn host_of(m: &Marcus) -> String {
    m.url.trim_start_matches("http://").to_string()
}

fn projects(m: &Marcus) -> usize {
    m.get("/api/projects").json()["projects"]
        .as_array()
        .map(Vec::len)
        .unwrap()
}

#[test]
fn a_cross_origin_simple_request_is_refused_and_changes_nothing() {
    let m = Marcus::start(&[]);
    let body = json!({"project_name": "pwned", "tasks": [{"name": "x"}]}).to_string();
    let batch = json!({"writes": [{"collection": "loot", "id": "x", "data": {}}]}).to_string();
    let mcp = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": "create_project", "arguments": {"project_name": "p", "tasks": []}}})
    .to_string();
    for (path, body) in [
        ("/api/projects", &body),
        ("/api/storage/_batch", &batch),
        ("/mcp", &mcp),
        (
            "/api/agents",
            &json!({"agent_id": "m", "name": "M", "role": "r", "skills": []}).to_string(),
        ),
    ] {
        for content_type in ["text/plain", "application/json"] {
            let a = m.request(
                "POST",
                path,
                &[("origin", EVIL), ("content-type", content_type)],
                Some(body.as_bytes()),
            );
            assert_eq!(
                a.error(),
                (403, "origin_not_allowed".into()),
                "{path} {content_type}"
            );
        }
    }
    // Reads from a foreign origin are refused too, and "null" is never our own origin.
    let a = m.request("GET", "/api/projects", &[("origin", EVIL)], None);
    assert_eq!(a.error(), (403, "origin_not_allowed".into()));
    let a = m.request("GET", "/api/projects", &[("origin", "null")], None);
    assert_eq!(a.error(), (403, "origin_not_allowed".into()));
    assert_eq!(projects(&m), 0);
    assert_eq!(m.get("/api/storage/loot/x").status, 404);
    assert_eq!(m.get("/api/agents").json()["agents"], json!([]));

    // The server's own pages (same origin) may call it.
    let own = m.url.clone();
    let a = m.request(
        "POST",
        "/api/projects",
        &[("origin", &own), ("content-type", "application/json")],
        Some(body.as_bytes()),
    );
    assert_eq!(a.status, 201, "{}", a.text_prefix());
    assert_eq!(projects(&m), 1);
}

#[test]
fn state_changing_bodies_must_be_json() {
    let m = Marcus::start(&[]);
    let body = json!({"project_name": "plain", "tasks": []}).to_string();
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        None,
    ] {
        let headers: Vec<(&str, &str)> = content_type
            .map(|c| vec![("content-type", c)])
            .unwrap_or_default();
        let a = m.request("POST", "/api/projects", &headers, Some(body.as_bytes()));
        assert_eq!(
            a.error(),
            (415, "unsupported_media_type".into()),
            "{content_type:?}"
        );
        let a = m.request("PUT", "/api/storage/notes/n", &headers, Some(b"{}"));
        assert_eq!(a.error(), (415, "unsupported_media_type".into()));
    }
    assert_eq!(projects(&m), 0);
    // JSON with parameters is JSON; a POST without a body needs no content type.
    let a = m.request(
        "POST",
        "/api/projects",
        &[("content-type", "application/json; charset=utf-8")],
        Some(body.as_bytes()),
    );
    assert_eq!(a.status, 201, "{}", a.text_prefix());
    m.post_json(
        "/api/agents",
        &json!({"agent_id": "a1", "name": "A", "role": "dev", "skills": []}),
    );
    let a = m.request("POST", "/api/agents/a1/next-task", &[], None);
    assert!(a.status < 500 && a.status != 415, "{}", a.text_prefix());
}

#[test]
fn a_rebound_host_name_is_refused_on_a_loopback_listener() {
    let m = Marcus::start(&[]);
    for host in ["attacker.example", "attacker.example:4298", "10.0.0.7"] {
        let (status, text) = raw(
            &m,
            &format!("GET /api/projects HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
        );
        assert_eq!(status, 403, "{host}: {text}");
        assert!(text.contains("host_not_allowed"), "{text}");
    }
    for host in [
        host_of(&m),
        format!("localhost:{}", m.url.rsplit(':').next().unwrap()),
    ] {
        let (status, text) = raw(
            &m,
            &format!("GET /healthz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
        );
        assert_eq!(status, 200, "{host}: {text}");
    }
}

#[test]
fn allow_lists_name_further_hosts_and_origins() {
    let m = Marcus::start(&[
        "--allowed-hosts",
        "marcus.internal",
        "--allowed-origins",
        "https://tools.example",
    ]);
    let (status, text) = raw(
        &m,
        "GET /healthz HTTP/1.1\r\nHost: marcus.internal\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 200, "{text}");
    let (status, _) = raw(
        &m,
        "GET /healthz HTTP/1.1\r\nHost: other.internal\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 403);
    let create_from = |origin: &str| {
        m.request(
            "POST",
            "/api/projects",
            &[("origin", origin), ("content-type", "application/json")],
            Some(br#"{"project_name": "from a tool", "tasks": []}"#),
        )
    };
    let a = create_from("https://tools.example");
    assert_eq!(a.status, 201, "{}", a.text_prefix());
    let a = create_from("https://other.example");
    assert_eq!(a.error(), (403, "origin_not_allowed".into()));
}

#[test]
fn push_streams_refuse_foreign_origins() {
    let m = Marcus::start(&[]);
    let host = host_of(&m);
    let upgrade = |origin: &str| {
        format!(
            "GET /api/ws HTTP/1.1\r\nHost: {host}\r\nOrigin: {origin}\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
             Sec-WebSocket-Version: 13\r\n\r\n"
        )
    };
    let (status, text) = raw(&m, &upgrade(EVIL));
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("origin_not_allowed"), "{text}");
    let (status, text) = raw(&m, &upgrade(&m.url));
    assert_eq!(status, 101, "the server's own page may subscribe: {text}");

    let (status, text) = raw(
        &m,
        &format!(
            "GET /api/events/stream?channel=agents HTTP/1.1\r\nHost: {host}\r\nOrigin: {EVIL}\r\n\
             Accept: text/event-stream\r\nConnection: close\r\n\r\n"
        ),
    );
    assert_eq!(status, 403, "{text}");
    assert_eq!(m.get("/healthz").status, 200);
}

#[test]
fn every_response_carries_the_security_headers() {
    let m = Marcus::start(&[]);
    for path in [
        "/",
        "/api/projects",
        "/healthz",
        "/readyz",
        "/metrics",
        "/nope",
    ] {
        let a = m.get(path);
        let csp = a.header("content-security-policy").unwrap_or_default();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp:?}");
        assert!(csp.contains("script-src 'self'"), "{path}: {csp:?}");
        assert_eq!(
            a.header("x-frame-options").as_deref(),
            Some("DENY"),
            "{path}"
        );
        assert_eq!(
            a.header("referrer-policy").as_deref(),
            Some("no-referrer"),
            "{path}"
        );
        assert_eq!(
            a.header("x-content-type-options").as_deref(),
            Some("nosniff"),
            "{path}"
        );
    }
    // A refusal carries them too.
    let refused = m.request("GET", "/api/projects", &[("origin", EVIL)], None);
    assert_eq!(refused.status, 403);
    assert!(refused.header("content-security-policy").is_some());
    assert_eq!(refused.header("x-frame-options").as_deref(), Some("DENY"));
}
