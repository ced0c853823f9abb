//! The platform capabilities through the real binary: storage, cache, realtime, features.

mod common;

use common::Marcus;
use serde_json::json;
use std::collections::HashSet;

#[test]
fn cache_evicts_least_recently_used() {
    let m = Marcus::start(&["--cache-entries", "50"]);
    for i in 0..50 {
        m.request(
            "PUT",
            &format!("/api/cache/k{i}"),
            &[("content-type", "application/octet-stream")],
            Some(b"v"),
        );
    }
    // Touch k0 so that k1 is now the least recently used.
    assert_eq!(m.get("/api/cache/k0").status, 200);
    m.request(
        "PUT",
        "/api/cache/k50",
        &[("content-type", "application/octet-stream")],
        Some(b"v"),
    );
    assert_eq!(
        m.get("/api/cache/k1").status,
        404,
        "least recently used entry evicted"
    );
    assert_eq!(
        m.get("/api/cache/k0").status,
        200,
        "recently read entry kept"
    );
    assert_eq!(m.get("/api/cache/k50").status, 200);
}

#[test]
fn features_in_the_solo_tier() {
    let m = Marcus::start(&[]);
    assert_eq!(m.get("/healthz").json(), json!({"status": "ok"}));
    let f = m.get("/api/features").json();
    assert_eq!(f["tier"], "solo");
    assert_eq!(
        f["capabilities"],
        json!({"realtime": false, "collaboration": false, "advanced_analytics": false,
               "unlimited_projects": false, "api_access": true, "webhooks": false,
               "sso": false, "audit_logs": false})
    );
    assert_eq!(f["backends"]["storage"]["name"], "sqlite");
    assert_eq!(f["backends"]["storage"]["healthy"], true);
    assert_eq!(f["backends"]["cache"]["name"], "memory");
    assert_eq!(f["backends"]["realtime"]["name"], "in-process");
    assert_eq!(f["host"], "native");
    for key in ["users", "agents", "projects", "storage_mb"] {
        assert!(f["counts"][key].is_number(), "counts.{key} missing in {f}");
    }
    let keys: HashSet<&str> = f.as_object().unwrap().keys().map(String::as_str).collect();
    assert!(keys.is_superset(&HashSet::from([
        "tier",
        "capabilities",
        "backends",
        "counts"
    ])));
}
