//! The team tier against the machine's real PostgreSQL and Redis: two processes sharing one
//! database and one Redis, outages of either, start-up refusals, and features that appear as
//! the infrastructure does. Each test has a private database, key prefix or redis-server.

mod common;

use common::Marcus;
use common::board::thirty_two_agents_complete_500_tasks;
use common::sse::SseStream;
use common::team::{PrivateDatabase, PrivateRedis, shared_redis, team, wait_until};
use serde_json::{Value, json};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

fn features(m: &Marcus) -> Value {
    let a = m.get("/api/features");
    assert_eq!(a.status, 200, "{}", a.text_prefix());
    a.json()
}

#[test]
fn two_processes_on_postgres_and_redis_share_work_and_events() {
    let Some(team) = team("two processes on PostgreSQL and Redis") else {
        return;
    };
    // `--debug-routes` lets the race read the durable event log through the raw storage API.
    let a = Marcus::start_env(&["--debug-routes"], &team.env());
    let b = Marcus::start_env(&[], &team.env());
    for m in [&a, &b] {
        let f = features(m);
        assert_eq!(f["tier"], "team", "{f}");
        assert_eq!(f["capabilities"]["realtime"], true, "{f}");
        assert_eq!(f["capabilities"]["collaboration"], true, "{f}");
        assert_eq!(f["backends"]["storage"]["name"], "postgres");
        assert_eq!(f["push"]["sse"], "/api/events/stream");
    }

    // Events published through either process reach subscribers of both, each once, in order.
    let mut on_a = SseStream::open(&a.url, "/api/events/stream?channel=shared", None);
    let mut on_b = SseStream::open(&b.url, "/api/events/stream?channel=shared", None);
    assert_eq!(
        (on_b.status, on_b.content_type.as_str()),
        (200, "text/event-stream")
    );
    std::thread::sleep(Duration::from_millis(300));
    std::thread::scope(|s| {
        for (who, m) in [("a", &a), ("b", &b)] {
            s.spawn(move || {
                for n in 0..50 {
                    let r = m.post_json("/api/realtime/shared", &json!({"from": who, "n": n}));
                    assert_eq!(r.status, 200, "{}", r.text_prefix());
                }
            });
        }
    });
    for stream in [&mut on_a, &mut on_b] {
        let got = stream.take(100, Duration::from_secs(20));
        let ids: Vec<u64> = got.iter().map(|e| e.id).collect();
        assert_eq!(ids, (1..=100).collect::<Vec<_>>(), "once each, in order");
        for from in ["a", "b"] {
            let ns: Vec<i64> = got
                .iter()
                .map(|e| serde_json::from_str::<Value>(&e.data).unwrap())
                .filter(|p| p["from"] == from)
                .map(|p| p["n"].as_i64().unwrap())
                .collect();
            assert_eq!(
                ns,
                (0..50).collect::<Vec<_>>(),
                "{from}'s events in its order"
            );
        }
        assert!(
            stream.next_event(Duration::from_millis(300)).is_none(),
            "no duplicates"
        );
    }
    let polled = b.get("/api/realtime/shared?since=95").json();
    assert_eq!(polled["latest"], 100);
    assert_eq!(polled["events"].as_array().unwrap().len(), 5);

    // 32 agents through both processes: every task completed once, by its holder.
    let project = thirty_two_agents_complete_500_tasks(&a, &b);
    let events = b
        .get(&format!("/api/projects/{project}/events?since=0&limit=5"))
        .json();
    assert!(events["latest"].as_u64().unwrap() >= 1000, "{events}");
}

#[test]
fn postgres_outage_answers_503_then_recovers_without_losing_writes() {
    let Some(db) = PrivateDatabase::create("PostgreSQL outage") else {
        return;
    };
    let m = Marcus::start_env(&[], &[("DATABASE_URL", &db.url)]);
    for i in 0..50 {
        let r = m.put_json(&format!("/api/storage/docs/d{i}"), &json!({"i": i}));
        assert_eq!(r.status, 200, "{}", r.text_prefix());
    }

    db.cut_off();
    let refused = m.get("/api/storage/docs/d1");
    assert_eq!(refused.error(), (503, "unavailable".to_string()));
    let write = m.put_json("/api/storage/docs/late", &json!({"late": true}));
    assert_eq!(write.error(), (503, "unavailable".to_string()));
    // Clients are told when to try again, on reads, writes and board routes alike.
    let board = m.get("/api/projects");
    assert_eq!(board.error(), (503, "unavailable".to_string()));
    for answer in [&refused, &write, &board] {
        let wait = answer.header("retry-after").unwrap_or_default();
        assert!(
            wait.parse::<u32>().is_ok_and(|s| (1..=60).contains(&s)),
            "a 503 without a usable Retry-After: {wait:?}"
        );
    }
    let f = features(&m);
    assert_eq!(f["backends"]["storage"]["healthy"], false, "{f}");

    db.restore();
    let back = wait_until(Duration::from_secs(20), || {
        m.get("/api/storage/docs/d1").status == 200
    });
    assert!(
        back.is_some(),
        "storage did not recover: {}",
        m.get("/api/storage/docs/d1").text_prefix()
    );
    for i in 0..50 {
        let got = m.get(&format!("/api/storage/docs/d{i}"));
        assert_eq!(got.status, 200, "d{i} lost");
        assert_eq!(got.json()["data"], json!({"i": i}));
    }
    assert_eq!(
        m.get("/api/storage/docs/late").status,
        404,
        "a refused write did not land"
    );
    assert_eq!(features(&m)["backends"]["storage"]["healthy"], true);
}

#[test]
fn postgres_equality_queries_use_an_index() {
    let Some(db) = PrivateDatabase::create("PostgreSQL query plans") else {
        return;
    };
    let m = Marcus::start_env(&[], &[("DATABASE_URL", &db.url)]);
    let writes: Vec<Value> = (0..2000)
        .map(|i| json!({"collection": "items", "id": format!("i{i:05}"), "data": {"status": if i % 100 == 0 { "todo" } else { "done" }, "n": i}}))
        .collect();
    for chunk in writes.chunks(500) {
        let r = m.post_json("/api/storage/_batch", &json!({"writes": chunk}));
        assert_eq!(r.status, 200, "{}", r.text_prefix());
    }
    let page = m
        .post_json(
            "/api/storage/items/_query",
            &json!({"where": {"status": "todo"}, "limit": 100}),
        )
        .json();
    assert_eq!(page["documents"].as_array().unwrap().len(), 20);
    db.query_text("ANALYZE documents");
    // As the app's statements run: the app role, under row-level security, in the tenant.
    let mut client = postgres::Client::connect(&db.url, postgres::NoTls).unwrap();
    let mut tx = client.transaction().unwrap();
    tx.batch_execute(
        "SET LOCAL ROLE marcus_app; SELECT set_config('marcus.tenant', 'default', true)",
    )
    .unwrap();
    let plan: String = tx
        .query(
            "EXPLAIN SELECT id FROM documents WHERE tenant = 'default' AND collection = 'items'
               AND id > '' AND data -> 'status' = '\"todo\"'::jsonb
               AND f_status = ('\"todo\"'::jsonb)::text
               AND data @> '{\"status\": \"todo\"}'::jsonb
             ORDER BY id LIMIT 101",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get::<_, String>(0))
        .collect::<Vec<_>>()
        .join("\n");
    drop(tx);
    assert!(
        plan.contains("documents_by_status"),
        "no field index in the plan:\n{plan}"
    );
    assert!(!plan.contains("Seq Scan"), "{plan}");
}

#[test]
fn concurrent_first_queries_on_two_hosts_create_field_indexes_without_a_warning() {
    let Some(db) =
        PrivateDatabase::create("PostgreSQL field indexes under concurrent first queries")
    else {
        return;
    };
    let hosts = [
        Marcus::start_env(&[], &[("DATABASE_URL", &db.url)]),
        Marcus::start_env(&[], &[("DATABASE_URL", &db.url)]),
    ];
    let r = hosts[0].put_json(
        "/api/storage/items/i1",
        &json!({"s00": 1, "k00": 1, "m00": 1}),
    );
    assert_eq!(r.status, 200, "{}", r.text_prefix());
    // Field combinations no host has queried yet, each asked for several times at once on
    // both hosts; field names sorted, so each combination's index name is known here.
    let combinations: Vec<Vec<String>> = (0..8)
        .flat_map(|i| {
            [
                vec![format!("s{i:02}")],
                vec![format!("k{i:02}"), format!("m{i:02}")],
            ]
        })
        .collect();
    const ASKS_PER_HOST: usize = 3;
    let start = std::sync::Barrier::new(2 * combinations.len() * ASKS_PER_HOST);
    std::thread::scope(|s| {
        for host in &hosts {
            for fields in &combinations {
                for _ in 0..ASKS_PER_HOST {
                    let start = &start;
                    s.spawn(move || {
                        let filter: serde_json::Map<String, Value> =
                            fields.iter().map(|f| (f.clone(), json!(1))).collect();
                        start.wait();
                        let r = host.post_json(
                            "/api/storage/items/_query",
                            &json!({"where": filter, "limit": 10}),
                        );
                        assert_eq!(r.status, 200, "{fields:?}: {}", r.text_prefix());
                        let found = r.json()["documents"].as_array().unwrap().len();
                        assert_eq!(found, usize::from(fields[0].ends_with("00")), "{fields:?}");
                    });
                }
            }
        }
    });
    for host in &hosts {
        let stderr = host.stderr_text();
        assert!(
            !stderr.contains("creating an index"),
            "index creation warned:\n{stderr}"
        );
    }
    let indexes = db.query_text(
        "SELECT indexname::text FROM pg_indexes WHERE tablename = 'documents' ORDER BY 1",
    );
    let indexes: Vec<&str> = indexes.lines().collect();
    for fields in &combinations {
        let name = format!("documents_by_{}", fields.join("__"));
        assert!(indexes.contains(&name.as_str()), "{name} in {indexes:?}");
    }
}

#[test]
fn redis_appears_goes_away_and_comes_back_without_a_failed_request() {
    let port = PrivateRedis::free_port();
    let url = format!("redis://127.0.0.1:{port}");
    let m = Marcus::start_env(
        &[],
        &[("REDIS_URL", &url), ("MARCUS_REDIS_PREFIX", "outage:")],
    );

    // Redis not up yet: the host runs on memory and says so.
    let f = features(&m);
    assert_eq!(f["backends"]["cache"]["name"], "redis");
    assert_eq!(f["backends"]["cache"]["healthy"], false, "{f}");
    assert_eq!(
        m.request(
            "PUT",
            "/api/cache/early",
            &[("content-type", "application/octet-stream")],
            Some(b"1")
        )
        .status,
        200
    );
    assert_eq!(m.get("/api/cache/early").status, 200);

    // It appears: picked up live.
    let Some(mut redis) = PrivateRedis::start("Redis outage", port) else {
        return;
    };
    // The cache and the realtime subscription reconnect each on its own.
    let up = wait_until(Duration::from_secs(10), || {
        let f = features(&m);
        f["backends"]["cache"]["healthy"] == true && f["backends"]["realtime"]["healthy"] == true
    });
    assert!(up.is_some(), "redis not picked up: {}", features(&m));

    // Load while Redis dies and returns: no request may fail.
    let stop = AtomicBool::new(false);
    let failures = AtomicUsize::new(0);
    let requests = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for t in 0..4 {
            let (m, stop, failures, requests) = (&m, &stop, &failures, &requests);
            s.spawn(move || {
                let mut i = 0;
                while !stop.load(Ordering::SeqCst) {
                    let key = format!("/api/cache/t{t}-{}", i % 20);
                    let answers = [
                        m.request(
                            "PUT",
                            &key,
                            &[("content-type", "application/octet-stream")],
                            Some(b"v"),
                        )
                        .status,
                        m.get(&key).status,
                        m.post_json(&format!("/api/realtime/load{t}"), &json!({"i": i}))
                            .status,
                        m.get(&format!("/api/realtime/load{t}?since=0&limit=5"))
                            .status,
                        m.put_json(&format!("/api/storage/load/t{t}-{i}"), &json!({"i": i}))
                            .status,
                    ];
                    requests.fetch_add(answers.len(), Ordering::SeqCst);
                    // A cached value may be missing once Redis is gone (the memory layer
                    // keeps only what was written during the outage, so it is never stale):
                    // a miss is a cache's answer, not a failure.
                    let failed = answers
                        .iter()
                        .enumerate()
                        .filter(|(n, s)| **s != 200 && !(*n == 1 && **s == 404))
                        .count();
                    if failed > 0 {
                        eprintln!("failed answers during the outage: {answers:?}");
                    }
                    failures.fetch_add(failed, Ordering::SeqCst);
                    i += 1;
                }
            });
        }
        std::thread::sleep(Duration::from_millis(700));
        redis.kill();
        let down = wait_until(Duration::from_secs(10), || {
            features(&m)["backends"]["cache"]["healthy"] == false
        });
        assert!(down.is_some(), "the outage was not noticed");
        std::thread::sleep(Duration::from_millis(700));
        stop.store(true, Ordering::SeqCst);
    });
    assert!(
        requests.load(Ordering::SeqCst) > 100,
        "too little load to mean anything"
    );
    assert_eq!(
        failures.load(Ordering::SeqCst),
        0,
        "requests failed during the Redis outage"
    );
    assert_eq!(features(&m)["tier"], "solo");

    // Back again: healthy within seconds, no restart.
    let _redis = PrivateRedis::start("Redis outage", port).expect("restarting redis-server");
    let recovered = wait_until(Duration::from_secs(10), || {
        let f = features(&m);
        f["backends"]["cache"]["healthy"] == true && f["backends"]["realtime"]["healthy"] == true
    });
    assert!(recovered.is_some(), "no recovery: {}", features(&m));
    assert_eq!(
        m.request(
            "PUT",
            "/api/cache/after",
            &[("content-type", "application/octet-stream")],
            Some(b"2")
        )
        .status,
        200
    );
    assert_eq!(m.get("/api/cache/after").body, b"2");
}

/// Runs `marcus serve` expecting it to refuse to start; returns its stderr.
fn refused_start(env: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_marcus"));
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path());
    for var in marcus_host::launcher::settings_variables() {
        cmd.env_remove(var);
    }
    let out = cmd
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("running marcus");
    assert!(!out.status.success(), "marcus started with {env:?}");
    assert!(
        out.stdout.is_empty(),
        "printed a listening line: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn unsupported_or_unreachable_infrastructure_is_refused_at_start() {
    let mongo = refused_start(&[("DATABASE_URL", "mongodb://localhost/marcus")]);
    assert!(
        mongo.contains("postgresql://") && mongo.contains("postgres://"),
        "{mongo}"
    );
    let typo = refused_start(&[("DATABASE_URL", "postgress://localhost/marcus")]);
    assert!(typo.contains("postgresql://"), "{typo}");
    let unreachable = refused_start(&[("DATABASE_URL", "postgresql://marcus@127.0.0.1:1/none")]);
    assert!(
        unreachable.contains("cannot reach PostgreSQL at 127.0.0.1:1/none"),
        "{unreachable}"
    );
    let redis = refused_start(&[("REDIS_URL", "http://localhost:6379")]);
    assert!(redis.contains("redis://"), "{redis}");
}

#[test]
fn redis_only_adds_cache_and_realtime_but_not_the_team_tier() {
    let Some((url, prefix)) = shared_redis("Redis without PostgreSQL") else {
        return;
    };
    let m = Marcus::start_env(
        &[],
        &[("REDIS_URL", &url), ("MARCUS_REDIS_PREFIX", &prefix)],
    );
    let f = features(&m);
    assert_eq!(f["tier"], "solo", "team needs PostgreSQL too: {f}");
    assert_eq!(f["backends"]["cache"]["healthy"], true);
    assert_eq!(f["capabilities"]["collaboration"], false);
}
