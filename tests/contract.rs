//! The platform contract, run unchanged on every backend: storage on SQLite and on
//! PostgreSQL, cache and realtime on memory/in-process and on Redis. Each test gets a fresh
//! server and, for the team backends, a private database and Redis key prefix.

mod common;

use common::Marcus;
use common::team::{PrivateDatabase, shared_redis};
use serde_json::{Value, json};
use std::time::Duration;

/// Runs each storage contract test against SQLite and against PostgreSQL.
macro_rules! storage_contract {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[test] fn $name() { super::$name(&super::Marcus::start(&[])); })*
        }
        mod postgres {
            $(#[test] fn $name() {
                let Some(db) = super::PrivateDatabase::create("storage contract on PostgreSQL") else { return };
                let m = super::Marcus::start_env(&[], &[("DATABASE_URL", &db.url)]);
                super::$name(&m);
            })*
        }
    };
}

/// Runs each cache and realtime contract test on the solo backends and on Redis.
macro_rules! shared_state_contract {
    ($($name:ident),* $(,)?) => {
        mod solo {
            $(#[test] fn $name() { super::$name(&super::Marcus::start(&[])); })*
        }
        mod redis {
            $(#[test] fn $name() {
                let Some((url, prefix)) = super::shared_redis("cache and realtime contract on Redis") else { return };
                let m = super::Marcus::start_env(&[], &[("REDIS_URL", &url), ("MARCUS_REDIS_PREFIX", &prefix)]);
                let features = m.get("/api/features").json();
                assert_eq!(features["backends"]["cache"]["name"], "redis", "{features}");
                assert_eq!(features["backends"]["realtime"]["name"], "redis", "{features}");
                super::$name(&m);
            })*
        }
    };
}

storage_contract!(
    storage_round_trip_and_versions,
    compare_and_swap_conflicts_change_nothing,
    query_count_scan_and_collections,
    batch_is_all_or_nothing,
    concurrent_compare_and_swap_has_exactly_one_winner,
);

shared_state_contract!(
    cache_hits_ttl_delete_and_clear,
    realtime_publish_poll_and_retention,
);

fn storage_round_trip_and_versions(m: &Marcus) {
    let a = m.put_json("/api/storage/notes/t1", &json!({"status": "todo", "n": 1}));
    assert_eq!(a.status, 200);
    let doc = a.json();
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["data"], json!({"status": "todo", "n": 1}));
    let created = doc["created_at"].as_u64().unwrap();

    std::thread::sleep(Duration::from_millis(5));
    let b = m
        .put_json("/api/storage/notes/t1", &json!({"status": "done", "n": 2}))
        .json();
    assert_eq!(b["version"], 2);
    assert_eq!(b["created_at"].as_u64().unwrap(), created);
    assert!(b["updated_at"].as_u64().unwrap() > created);

    let got = m.get("/api/storage/notes/t1");
    assert_eq!(got.status, 200);
    assert_eq!(got.json()["data"], json!({"status": "done", "n": 2}));
    assert_eq!(
        m.get("/api/storage/notes/missing").error_code(),
        "not_found"
    );
}

fn compare_and_swap_conflicts_change_nothing(m: &Marcus) {
    m.put_json("/api/storage/c/d", &json!({"v": 1}));
    m.put_json("/api/storage/c/d", &json!({"v": 2}));
    let stale = m.request(
        "PUT",
        "/api/storage/c/d",
        &[("if-match", "1"), ("content-type", "application/json")],
        Some(br#"{"v": 99}"#),
    );
    assert_eq!(stale.status, 409);
    assert_eq!(stale.error_code(), "conflict");
    assert_eq!(m.get("/api/storage/c/d").json()["data"], json!({"v": 2}));

    let ok = m.request(
        "PUT",
        "/api/storage/c/d",
        &[("if-match", "2"), ("content-type", "application/json")],
        Some(br#"{"v": 3}"#),
    );
    assert_eq!(ok.status, 200);
    assert_eq!(ok.json()["version"], 3);

    let exists = m.request(
        "PUT",
        "/api/storage/c/d",
        &[("if-none-match", "*"), ("content-type", "application/json")],
        Some(b"{}"),
    );
    assert_eq!(exists.status, 409);
    let fresh = m.request(
        "PUT",
        "/api/storage/c/new",
        &[("if-none-match", "*"), ("content-type", "application/json")],
        Some(b"{}"),
    );
    assert_eq!(fresh.status, 200);

    let wrong_delete = m.request("DELETE", "/api/storage/c/d", &[("if-match", "1")], None);
    assert_eq!(wrong_delete.status, 409);
    assert_eq!(m.get("/api/storage/c/d").status, 200);
    let delete = m.request("DELETE", "/api/storage/c/d", &[("if-match", "3")], None);
    assert_eq!(delete.json(), json!({"deleted": true}));
    assert_eq!(m.get("/api/storage/c/d").status, 404);
    assert_eq!(m.delete("/api/storage/c/d").status, 404);
}

fn query_count_scan_and_collections(m: &Marcus) {
    for i in 0..25 {
        let status = if i % 2 == 0 { "todo" } else { "done" };
        let a = m.put_json(
            &format!("/api/storage/items/i{i:02}"),
            &json!({"status": status, "n": i % 5, "flag": i == 3}),
        );
        assert_eq!(a.status, 200);
    }
    m.put_json("/api/storage/other/x", &json!({"status": "todo"}));

    // Paging with a cursor sees every document once, in id order.
    let mut seen = Vec::new();
    let mut cursor = Value::Null;
    loop {
        let page = m
            .post_json(
                "/api/storage/items/_query",
                &json!({"limit": 10, "cursor": cursor}),
            )
            .json();
        for d in page["documents"].as_array().unwrap() {
            seen.push(d["id"].as_str().unwrap().to_string());
        }
        cursor = page["next_cursor"].clone();
        if cursor.is_null() {
            break;
        }
    }
    let expected: Vec<String> = (0..25).map(|i| format!("i{i:02}")).collect();
    assert_eq!(seen, expected);

    let todo = m
        .post_json(
            "/api/storage/items/_query",
            &json!({"where": {"status": "todo"}, "limit": 100}),
        )
        .json();
    assert_eq!(todo["documents"].as_array().unwrap().len(), 13);
    let n3 = m
        .post_json("/api/storage/items/_query", &json!({"where": {"n": 3}}))
        .json();
    let ids: Vec<&str> = n3["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["i03", "i08", "i13", "i18", "i23"]);
    // Types must match: the string "3" is not the number 3, true is not 1.
    let s3 = m
        .post_json("/api/storage/items/_count", &json!({"where": {"n": "3"}}))
        .json();
    assert_eq!(s3["count"], 0);
    let flag = m
        .post_json(
            "/api/storage/items/_count",
            &json!({"where": {"flag": true}}),
        )
        .json();
    assert_eq!(flag["count"], 1);
    let both = m
        .post_json(
            "/api/storage/items/_count",
            &json!({"where": {"status": "done", "n": 3}}),
        )
        .json();
    assert_eq!(both["count"], 3);
    assert_eq!(
        m.post_json("/api/storage/items/_count", &json!({})).json()["count"],
        25
    );

    let mut scanned = Vec::new();
    let mut after = Value::Null;
    loop {
        let batch = m
            .post_json(
                "/api/storage/items/_scan",
                &json!({"after": after, "limit": 7}),
            )
            .json();
        let docs = batch["documents"].as_array().unwrap().clone();
        if docs.is_empty() {
            break;
        }
        assert!(docs.len() <= 7);
        after = docs.last().unwrap()["id"].clone();
        scanned.extend(
            docs.into_iter()
                .map(|d| d["id"].as_str().unwrap().to_string()),
        );
    }
    assert_eq!(scanned, expected);

    let cols = m.get("/api/storage").json();
    assert_eq!(cols["collections"], json!(["items", "other"]));
}

fn batch_is_all_or_nothing(m: &Marcus) {
    m.put_json("/api/storage/b/existing", &json!({"v": 1}));
    let bad = m.post_json(
        "/api/storage/_batch",
        &json!({"writes": [
            {"collection": "b", "id": "new1", "data": {"v": 1}, "expect": "absent"},
            {"collection": "b", "id": "existing", "data": {"v": 2}, "expect": 7}
        ]}),
    );
    assert_eq!(bad.status, 409);
    assert_eq!(m.get("/api/storage/b/new1").status, 404);
    assert_eq!(
        m.get("/api/storage/b/existing").json()["data"],
        json!({"v": 1})
    );

    let good = m.post_json(
        "/api/storage/_batch",
        &json!({"writes": [
            {"collection": "b", "id": "new1", "data": {"v": 1}, "expect": "absent"},
            {"collection": "b", "id": "existing", "data": {"v": 2}, "expect": 1}
        ]}),
    );
    assert_eq!(good.status, 200);
    assert_eq!(good.json()["documents"].as_array().unwrap().len(), 2);
    assert_eq!(m.get("/api/storage/b/existing").json()["version"], 2);
}

fn concurrent_compare_and_swap_has_exactly_one_winner(m: &Marcus) {
    assert_eq!(
        m.put_json("/api/storage/race/doc", &json!({"owner": null}))
            .status,
        200
    );
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|i| {
                s.spawn(move || {
                    let body = json!({"owner": i}).to_string();
                    m.request(
                        "PUT",
                        "/api/storage/race/doc",
                        &[("if-match", "1"), ("content-type", "application/json")],
                        Some(body.as_bytes()),
                    )
                    .status
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        15,
        "{statuses:?}"
    );
    assert_eq!(m.get("/api/storage/race/doc").json()["version"], 2);
}

fn cache_hits_ttl_delete_and_clear(m: &Marcus) {
    assert_eq!(m.get("/api/cache/k").status, 404);
    assert_eq!(
        m.request(
            "PUT",
            "/api/cache/k",
            &[("content-type", "application/octet-stream")],
            Some(b"hello")
        )
        .status,
        200
    );
    let hit = m.get("/api/cache/k");
    assert_eq!((hit.status, hit.body.as_slice()), (200, &b"hello"[..]));

    // An empty value is a hit, not a miss.
    m.request(
        "PUT",
        "/api/cache/empty",
        &[("content-type", "application/octet-stream")],
        Some(b""),
    );
    let empty = m.get("/api/cache/empty");
    assert_eq!((empty.status, empty.body.len()), (200, 0));

    m.request(
        "PUT",
        "/api/cache/short?ttl=1",
        &[("content-type", "application/octet-stream")],
        Some(b"x"),
    );
    assert_eq!(m.get("/api/cache/short").status, 200);
    std::thread::sleep(Duration::from_millis(2200));
    assert_eq!(
        m.get("/api/cache/short").status,
        404,
        "expired after its TTL"
    );
    assert_eq!(m.get("/api/cache/k").status, 200, "default TTL is 300 s");

    assert_eq!(m.delete("/api/cache/k").json(), json!({"deleted": true}));
    assert_eq!(m.delete("/api/cache/k").json(), json!({"deleted": false}));
    assert_eq!(m.delete("/api/cache").json(), json!({"cleared": true}));
    assert_eq!(m.get("/api/cache/empty").status, 404);
    assert_eq!(
        m.request(
            "PUT",
            "/api/cache/k?ttl=zero",
            &[("content-type", "application/octet-stream")],
            Some(b"x")
        )
        .error_code(),
        "bad_request"
    );
}

fn realtime_publish_poll_and_retention(m: &Marcus) {
    for expected in 1..=3 {
        let a = m.post_json("/api/realtime/alpha", &json!({"n": expected}));
        assert_eq!(a.json()["seq"], expected);
    }
    assert_eq!(
        m.post_json("/api/realtime/beta", &json!({"n": 1})).json()["seq"],
        1
    );
    let after1 = m.get("/api/realtime/alpha?since=1").json();
    let seqs: Vec<u64> = after1["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, vec![2, 3]);
    assert_eq!(after1["events"][0]["payload"], json!({"n": 2}));
    assert_eq!(after1["latest"], 3);
    let limited = m.get("/api/realtime/alpha?since=0&limit=1").json();
    assert_eq!(limited["events"].as_array().unwrap().len(), 1);

    for n in 0..1100 {
        m.post_json("/api/realtime/busy", &json!({"n": n}));
    }
    let b = m.get("/api/realtime/busy?since=0&limit=5").json();
    assert_eq!(b["latest"], 1100);
    assert_eq!(b["oldest"], 101, "only the newest 1000 events are retained");
    assert_eq!(b["events"][0]["seq"], 101);
}
