//! The platform contract, run unchanged on every backend. Storage: the native host on SQLite
//! and on PostgreSQL, and the Spin adapter on Spin SQLite and on outbound PostgreSQL (the app
//! served with the adapter linked in, by the stand-in host of `tests/spin_support`), all over
//! the same HTTP API. Cache and realtime: memory/in-process and Redis. Each test gets a fresh
//! server and, for the team backends, a private database and Redis key prefix.

mod common;
mod spin_support;

use common::Marcus;
use common::serves::{Serves, answer};
use common::team::{PrivateDatabase, shared_redis};
use serde_json::{Value, json};
use spin_support::test_host::SpinStores;
use std::time::Duration;

/// Runs each storage contract test against the four storage backends. The PostgreSQL ones
/// check first that storage really is PostgreSQL, so a test never passes on the wrong store.
macro_rules! storage_contract {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[test] fn $name() { super::$name(&super::Marcus::start(&[])); })*
        }
        mod postgres {
            $(#[test] fn $name() {
                let Some(db) = super::PrivateDatabase::create("storage contract on PostgreSQL") else { return };
                let m = super::Marcus::start_env(&[], &[("DATABASE_URL", &db.url)]);
                super::storage_is_postgres(&m);
                super::$name(&m);
            })*
        }
        mod spin_sqlite {
            $(#[test] fn $name() { super::$name(&super::SpinStores::new()); })*
        }
        mod spin_postgres {
            $(#[test] fn $name() {
                let Some(db) = super::PrivateDatabase::create("storage contract on the Spin adapter with PostgreSQL") else { return };
                let mut stores = super::SpinStores::new();
                stores.variables.insert("database_url".into(), db.url.clone());
                super::storage_is_postgres(&stores);
                super::$name(&stores);
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
    get_many_answers_every_key_in_order,
    read_many_answers_each_read_as_it_would_alone,
    concurrent_compare_and_swap_has_exactly_one_winner,
);

shared_state_contract!(
    cache_hits_ttl_delete_and_clear,
    realtime_publish_poll_and_retention,
);

fn get(s: &dyn Serves, path: &str) -> common::Answer {
    answer(s, "GET", path, &[], "")
}

fn put(s: &dyn Serves, path: &str, body: &Value) -> common::Answer {
    answer(s, "PUT", path, &[], &body.to_string())
}

fn post(s: &dyn Serves, path: &str, body: &Value) -> common::Answer {
    answer(s, "POST", path, &[], &body.to_string())
}

/// The message of a JSON error answer.
fn message(a: &common::Answer) -> String {
    a.json()["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn storage_is_postgres(s: &dyn Serves) {
    let features = get(s, "/api/features").json();
    assert_eq!(
        features["backends"]["storage"]["name"], "postgres",
        "{features}"
    );
}

fn storage_round_trip_and_versions(s: &dyn Serves) {
    let a = put(
        s,
        "/api/storage/notes/t1",
        &json!({"status": "todo", "n": 1}),
    );
    assert_eq!(a.status, 200, "{}", a.text_prefix());
    let doc = a.json();
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["data"], json!({"status": "todo", "n": 1}));
    let created = doc["created_at"].as_u64().unwrap();

    std::thread::sleep(Duration::from_millis(5));
    let b = put(
        s,
        "/api/storage/notes/t1",
        &json!({"status": "done", "n": 2}),
    )
    .json();
    assert_eq!(b["version"], 2);
    assert_eq!(b["created_at"].as_u64().unwrap(), created);
    assert!(b["updated_at"].as_u64().unwrap() > created);

    // The next request (on Spin, a new instance) sees the same database.
    let got = get(s, "/api/storage/notes/t1");
    assert_eq!(got.status, 200);
    let got = got.json();
    assert_eq!(got["data"], json!({"status": "done", "n": 2}));
    assert_eq!(got["version"], 2);
    assert_eq!(
        get(s, "/api/storage/notes/missing").error_code(),
        "not_found"
    );
}

fn compare_and_swap_conflicts_change_nothing(s: &dyn Serves) {
    put(s, "/api/storage/c/d", &json!({"v": 1}));
    put(s, "/api/storage/c/d", &json!({"v": 2}));
    let stale = answer(
        s,
        "PUT",
        "/api/storage/c/d",
        &[("if-match", "1")],
        r#"{"v": 99}"#,
    );
    assert_eq!(stale.status, 409);
    assert_eq!(stale.error_code(), "conflict");
    assert!(
        message(&stale).contains("version 2"),
        "{}",
        stale.text_prefix()
    );
    assert_eq!(get(s, "/api/storage/c/d").json()["data"], json!({"v": 2}));

    let ok = answer(
        s,
        "PUT",
        "/api/storage/c/d",
        &[("if-match", "2")],
        r#"{"v": 3}"#,
    );
    assert_eq!(ok.status, 200);
    assert_eq!(ok.json()["version"], 3);

    let exists = answer(
        s,
        "PUT",
        "/api/storage/c/d",
        &[("if-none-match", "*")],
        "{}",
    );
    assert_eq!(exists.status, 409);
    let fresh = answer(
        s,
        "PUT",
        "/api/storage/c/new",
        &[("if-none-match", "*")],
        "{}",
    );
    assert_eq!(fresh.status, 200);
    assert_eq!(fresh.json()["version"], 1);
    let ghost = answer(s, "PUT", "/api/storage/c/ghost", &[("if-match", "1")], "{}");
    assert_eq!(ghost.error_code(), "conflict");
    assert_eq!(get(s, "/api/storage/c/ghost").status, 404);

    let wrong_delete = answer(s, "DELETE", "/api/storage/c/d", &[("if-match", "1")], "");
    assert_eq!(wrong_delete.status, 409);
    assert_eq!(get(s, "/api/storage/c/d").status, 200);
    let delete = answer(s, "DELETE", "/api/storage/c/d", &[("if-match", "3")], "");
    assert_eq!(delete.json(), json!({"deleted": true}));
    assert_eq!(get(s, "/api/storage/c/d").status, 404);
    assert_eq!(answer(s, "DELETE", "/api/storage/c/d", &[], "").status, 404);
    let unconditional = answer(s, "DELETE", "/api/storage/c/new", &[], "");
    assert_eq!(unconditional.json(), json!({"deleted": true}));
}

fn query_count_scan_and_collections(s: &dyn Serves) {
    for i in 0..25 {
        let status = if i % 2 == 0 { "todo" } else { "done" };
        let a = put(
            s,
            &format!("/api/storage/items/i{i:02}"),
            &json!({"status": status, "n": i % 5, "flag": i == 3}),
        );
        assert_eq!(a.status, 200);
    }
    put(s, "/api/storage/other/x", &json!({"status": "todo"}));

    // Paging with a cursor sees every document once, in id order.
    let mut seen = Vec::new();
    let mut cursor = Value::Null;
    loop {
        let page = post(
            s,
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

    let todo = post(
        s,
        "/api/storage/items/_query",
        &json!({"where": {"status": "todo"}, "limit": 100}),
    )
    .json();
    assert_eq!(todo["documents"].as_array().unwrap().len(), 13);
    let n3 = post(s, "/api/storage/items/_query", &json!({"where": {"n": 3}})).json();
    let ids: Vec<&str> = n3["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["i03", "i08", "i13", "i18", "i23"]);
    let count = |filter: Value| {
        post(s, "/api/storage/items/_count", &json!({"where": filter})).json()["count"].clone()
    };
    // Types must match: the string "3" is not the number 3, true is not 1.
    assert_eq!(count(json!({"n": "3"})), 0);
    assert_eq!(count(json!({"flag": true})), 1);
    assert_eq!(count(json!({"flag": 1})), 0);
    assert_eq!(count(json!({"status": "done", "n": 3})), 3);
    assert_eq!(count(json!({"missing": null})), 0);
    assert_eq!(
        post(s, "/api/storage/items/_count", &json!({})).json()["count"],
        25
    );

    let mut scanned = Vec::new();
    let mut after = Value::Null;
    loop {
        let batch = post(
            s,
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

    let cols = get(s, "/api/storage").json();
    assert_eq!(cols["collections"], json!(["items", "other"]));
}

fn batch_is_all_or_nothing(s: &dyn Serves) {
    put(s, "/api/storage/b/existing", &json!({"v": 1}));
    let bad = post(
        s,
        "/api/storage/_batch",
        &json!({"writes": [
            {"collection": "b", "id": "new1", "data": {"v": 1}, "expect": "absent"},
            {"collection": "b", "id": "existing", "data": {"v": 2}, "expect": 7}
        ]}),
    );
    assert_eq!(bad.status, 409);
    assert!(
        message(&bad).contains("b/existing"),
        "{}",
        bad.text_prefix()
    );
    assert_eq!(get(s, "/api/storage/b/new1").status, 404);
    assert_eq!(
        get(s, "/api/storage/b/existing").json()["data"],
        json!({"v": 1})
    );

    let good = post(
        s,
        "/api/storage/_batch",
        &json!({"writes": [
            {"collection": "b", "id": "new1", "data": {"v": 1}, "expect": "absent"},
            {"collection": "b", "id": "existing", "data": {"v": 2}, "expect": 1},
            {"collection": "b", "id": "any", "data": {"v": 3}}
        ]}),
    );
    assert_eq!(good.status, 200, "{}", good.text_prefix());
    let written: Vec<(String, u64)> = good.json()["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["id"].as_str().unwrap().to_string(),
                d["version"].as_u64().unwrap(),
            )
        })
        .collect();
    let in_order = [("new1", 1), ("existing", 2), ("any", 1)].map(|(id, v)| (id.to_string(), v));
    assert_eq!(written, in_order, "every write, in the order given");
    assert_eq!(get(s, "/api/storage/b/existing").json()["version"], 2);
}

fn get_many_answers_every_key_in_order(s: &dyn Serves) {
    put(s, "/api/storage/gm/a", &json!({"n": 1}));
    put(s, "/api/storage/gm/b", &json!({"n": 2}));
    put(s, "/api/storage/gm/b", &json!({"n": 3}));
    put(s, "/api/storage/other/a", &json!({"n": 4}));
    let read = |keys: Value| post(s, "/api/storage/_get_many", &json!({ "keys": keys }));
    let key = |c: &str, id: &str| json!({"collection": c, "id": id});

    // Key order, not id order; a missing document is null; a key given twice answers twice;
    // the same id in another collection is another document.
    let got = read(json!([
        key("gm", "b"),
        key("gm", "missing"),
        key("other", "a"),
        key("gm", "a"),
        key("gm", "b"),
        key("nowhere", "a"),
    ]));
    assert_eq!(got.status, 200, "{}", got.text_prefix());
    let docs = got.json()["documents"].as_array().unwrap().clone();
    let seen: Vec<Value> = docs
        .iter()
        .map(|d| match d {
            Value::Null => Value::Null,
            d => json!([d["collection"], d["id"], d["data"]["n"], d["version"]]),
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            json!(["gm", "b", 3, 2]),
            Value::Null,
            json!(["other", "a", 4, 1]),
            json!(["gm", "a", 1, 1]),
            json!(["gm", "b", 3, 2]),
            Value::Null,
        ]
    );
    // Each entry is what a single read answers.
    assert_eq!(docs[0], get(s, "/api/storage/gm/b").json());

    let empty = read(json!([]));
    assert_eq!(empty.status, 200, "{}", empty.text_prefix());
    assert_eq!(empty.json(), json!({"documents": []}));

    // The most keys one read takes are answered; one more is refused, saying the limit.
    let most: Vec<Value> = (0..1000).map(|i| key("gm", &format!("k{i}"))).collect();
    let full = read(Value::Array(most.clone()));
    assert_eq!(full.status, 200, "{}", full.text_prefix());
    assert_eq!(full.json()["documents"].as_array().unwrap().len(), 1000);
    let mut over = most;
    over.push(key("gm", "a"));
    let refused = read(Value::Array(over));
    assert_eq!(refused.status, 400, "{}", refused.text_prefix());
    assert!(
        message(&refused).contains("at most 1000"),
        "{}",
        refused.text_prefix()
    );
    let malformed = read(json!([{"collection": "gm"}]));
    assert_eq!(malformed.status, 400);
    assert!(
        message(&malformed).contains("keys[0].id"),
        "{}",
        malformed.text_prefix()
    );
}

fn read_many_answers_each_read_as_it_would_alone(s: &dyn Serves) {
    for (id, colour) in [("a", "red"), ("b", "blue"), ("c", "red"), ("d", "red")] {
        put(
            s,
            &format!("/api/storage/rm/{id}"),
            &json!({"colour": colour}),
        );
    }
    put(s, "/api/storage/rm/a", &json!({"colour": "red", "n": 2}));
    let reds = json!({"where": {"colour": "red"}, "limit": 2});
    let read = |reads: Value| post(s, "/api/storage/_read_many", &json!({ "reads": reads }));
    let got = read(json!([
        {"get": {"collection": "rm", "id": "a"}},
        {"query": {"collection": "rm", "where": {"colour": "red"}, "limit": 2}},
        {"get": {"collection": "rm", "id": "missing"}},
        {"query": {"collection": "rm", "where": {"colour": "green"}}},
        {"get": {"collection": "rm", "id": "b"}},
    ]));
    assert_eq!(got.status, 200, "{}", got.text_prefix());
    let answers = got.json()["answers"].as_array().unwrap().clone();
    assert_eq!(answers.len(), 5, "one answer per read: {answers:?}");
    // Each answer is what the single read answers, in read order.
    assert_eq!(answers[0]["document"], get(s, "/api/storage/rm/a").json());
    assert_eq!(answers[0]["document"]["version"], 2);
    let alone = post(s, "/api/storage/rm/_query", &reds).json();
    assert_eq!(answers[1]["page"], alone);
    let ids: Vec<&str> = answers[1]["page"]["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["a", "c"], "a page in id order, limited");
    assert!(
        answers[1]["page"]["next_cursor"].is_string(),
        "{}",
        answers[1]
    );
    assert_eq!(answers[2], json!({"document": null}));
    assert_eq!(
        answers[3],
        json!({"page": {"documents": [], "next_cursor": null}})
    );
    assert_eq!(answers[4]["document"]["data"]["colour"], "blue");
    // The next page, from the cursor, in a second batch.
    let cursor = answers[1]["page"]["next_cursor"].clone();
    let next = read(
        json!([{"query": {"collection": "rm", "where": {"colour": "red"}, "limit": 2, "cursor": cursor}}]),
    );
    assert_eq!(next.status, 200, "{}", next.text_prefix());
    assert_eq!(next.json()["answers"][0]["page"]["documents"][0]["id"], "d");

    let empty = read(json!([]));
    assert_eq!(empty.status, 200, "{}", empty.text_prefix());
    assert_eq!(empty.json(), json!({"answers": []}));

    // The most reads one call takes are answered; one more is refused, saying the limit.
    let most: Vec<Value> = (0..100)
        .map(|i| json!({"get": {"collection": "rm", "id": format!("k{i}")}}))
        .collect();
    let full = read(Value::Array(most.clone()));
    assert_eq!(full.status, 200, "{}", full.text_prefix());
    assert_eq!(full.json()["answers"].as_array().unwrap().len(), 100);
    let mut over = most;
    over.push(json!({"get": {"collection": "rm", "id": "a"}}));
    let refused = read(Value::Array(over));
    assert_eq!(refused.status, 400, "{}", refused.text_prefix());
    assert!(
        message(&refused).contains("at most 100"),
        "{}",
        refused.text_prefix()
    );
    // A query a single call refuses is refused in a batch too, and nothing is answered.
    let bad_limit = read(json!([
        {"get": {"collection": "rm", "id": "a"}},
        {"query": {"collection": "rm", "limit": 0}},
    ]));
    assert_eq!(bad_limit.status, 400, "{}", bad_limit.text_prefix());
    for malformed in [
        json!([{"get": {"collection": "rm"}}]),
        json!([{"scan": {"collection": "rm"}}]),
        json!([{"get": {"collection": "rm", "id": "a"}, "query": {"collection": "rm"}}]),
        json!(["rm/a"]),
    ] {
        let refused = read(malformed.clone());
        assert_eq!(
            refused.status,
            400,
            "{malformed}: {}",
            refused.text_prefix()
        );
    }
}

fn concurrent_compare_and_swap_has_exactly_one_winner(s: &dyn Serves) {
    assert_eq!(
        put(s, "/api/storage/race/doc", &json!({"owner": null})).status,
        200
    );
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..16)
            .map(|i| {
                scope.spawn(move || {
                    let body = json!({"owner": i}).to_string();
                    answer(
                        s,
                        "PUT",
                        "/api/storage/race/doc",
                        &[("if-match", "1")],
                        &body,
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
    assert_eq!(get(s, "/api/storage/race/doc").json()["version"], 2);
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
