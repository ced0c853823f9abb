//! The read-through cache of project status, health, board and task context: a repeated
//! read is a hit, a write is never followed by a stale read (on one host, and across two
//! hosts sharing Redis), a burst of misses computes once, missing ids are cached as
//! missing until they exist, and `Cache-Control: no-cache` computes afresh; a write made
//! while Redis stalls is seen by both hosts at once when it wakes up.

mod common;

use common::Marcus;
use common::board::ok;
use common::team::{PrivateDatabase, PrivateRedis, team, wait_until};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn cache_header(m: &Marcus, path: &str, headers: &[(&str, &str)]) -> (u16, String, Value) {
    let a = m.request("GET", path, headers, None);
    let status = a.status;
    let header = a.header("x-marcus-cache").unwrap_or_default();
    let body = serde_json::from_slice(&a.body).unwrap_or(Value::Null);
    (status, header, body)
}

/// Counts of tasks by status in a status answer.
fn done_count(status: &Value) -> u64 {
    status["status"]["done"]
        .as_u64()
        .unwrap_or_else(|| panic!("no done count in {status}"))
}

/// An agent takes and completes one task; answers its id.
fn complete_one(m: &Marcus, agent: &str) -> String {
    let next = ok(m, "request_next_task", json!({"agent_id": agent}));
    let task = next["task"]["id"].as_str().unwrap().to_string();
    ok(
        m,
        "report_task_progress",
        json!({"agent_id": agent, "task_id": task, "status": "completed", "progress": 100}),
    );
    task
}

fn board(m: &Marcus, tasks: usize) -> String {
    let tasks: Vec<Value> = (0..tasks)
        .map(|i| json!({"name": format!("t{i}")}))
        .collect();
    let created = ok(
        m,
        "create_project",
        json!({"project_name": "cached", "tasks": tasks}),
    );
    created["project_id"].as_str().unwrap().to_string()
}

fn no_stale_reads(writer: &Marcus, reader: &Marcus) {
    let project = board(writer, 20);
    ok(
        writer,
        "register_agent",
        json!({"agent_id": "w", "name": "w", "role": "dev", "project_id": project}),
    );
    let path = format!("/api/projects/{project}");
    let (_, first, _) = cache_header(reader, &path, &[]);
    assert_eq!(first, "miss");
    let (_, second, body) = cache_header(reader, &path, &[]);
    assert_eq!(second, "hit", "a repeated read comes from the cache");
    assert_eq!(done_count(&body), 0);
    let health = format!("/api/projects/{project}/health");
    cache_header(reader, &health, &[]);
    assert_eq!(cache_header(reader, &health, &[]).1, "hit");
    for n in 1..=10u64 {
        let task = complete_one(writer, "w");
        // Right after the write's answer, every cached read shows it.
        let (_, _, status) = cache_header(reader, &path, &[]);
        assert_eq!(
            done_count(&status),
            n,
            "status after {n} completions: {status}"
        );
        let (_, _, tasks) = cache_header(
            reader,
            &format!("/api/projects/{project}/tasks?status=done"),
            &[],
        );
        assert_eq!(tasks["count"], n, "{tasks}");
        let (_, _, context) = cache_header(reader, &format!("/api/tasks/{task}"), &[]);
        assert_eq!(context["context"]["task"]["status"], "done", "{context}");
        let (_, again, _) = cache_header(reader, &path, &[]);
        assert_eq!(again, "hit");
    }
}

#[test]
fn reads_after_a_write_are_never_stale_on_one_host() {
    let m = Marcus::start(&["--jobs-interval-ms", "0"]);
    no_stale_reads(&m, &m);
}

#[test]
fn reads_after_a_write_are_never_stale_across_two_hosts() {
    let Some(team) = team("read cache across hosts") else {
        return;
    };
    let a = Marcus::start_env(&["--jobs-interval-ms", "0"], &team.env());
    let b = Marcus::start_env(&["--jobs-interval-ms", "0"], &team.env());
    no_stale_reads(&a, &b);
    no_stale_reads(&b, &a);
}

fn burst_computes_once(hosts: &[&Marcus]) {
    let project = board(hosts[0], 30);
    ok(
        hosts[0],
        "register_agent",
        json!({"agent_id": "b", "name": "b", "role": "dev", "project_id": project}),
    );
    let path = format!("/api/projects/{project}");
    for round in 0..3 {
        complete_one(hosts[0], "b");
        let outcomes: Vec<String> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..16)
                .map(|i| {
                    let m = hosts[i % hosts.len()];
                    let path = &path;
                    s.spawn(move || cache_header(m, path, &[]).1)
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let misses = outcomes.iter().filter(|o| *o == "miss").count();
        assert_eq!(
            misses, 1,
            "round {round}: one computation for the burst: {outcomes:?}"
        );
        assert!(
            outcomes
                .iter()
                .all(|o| ["miss", "hit", "shared"].contains(&o.as_str()))
        );
    }
}

#[test]
fn a_burst_of_misses_computes_once() {
    let m = Marcus::start(&["--jobs-interval-ms", "0"]);
    burst_computes_once(&[&m]);
    let Some(team) = team("single-flight across hosts") else {
        return;
    };
    let a = Marcus::start_env(&["--jobs-interval-ms", "0"], &team.env());
    let b = Marcus::start_env(&["--jobs-interval-ms", "0"], &team.env());
    burst_computes_once(&[&a, &b]);
}

#[test]
fn missing_ids_are_cached_as_missing_and_no_cache_computes_afresh() {
    // `--debug-routes` lets the test write a task under an id through the raw storage API.
    let m = Marcus::start(&["--jobs-interval-ms", "0", "--debug-routes"]);
    let (status, first, body) = cache_header(&m, "/api/projects/ghost", &[]);
    assert_eq!((status, first.as_str()), (404, "miss"), "{body}");
    let (status, second, body) = cache_header(&m, "/api/projects/ghost", &[]);
    assert_eq!((status, second.as_str()), (404, "hit"));
    assert_eq!(
        body["error"]["code"], "project_not_found",
        "the cached answer keeps its code"
    );
    let (status, _, _) = cache_header(&m, "/api/tasks/tsk-ghost", &[]);
    assert_eq!(status, 404);
    let (status, again, _) = cache_header(&m, "/api/tasks/tsk-ghost", &[]);
    assert_eq!((status, again.as_str()), (404, "hit"));

    // A task created under an id that was cached as missing is found at once.
    let project = board(&m, 1);
    let created = m.put_json(
        "/api/storage/tasks/tsk-ghost",
        &json!({"id": "tsk-ghost", "project_id": project, "name": "late", "status": "todo",
                 "dependencies": [], "created_at": 1, "updated_at": 1}),
    );
    assert!(created.status < 300, "{}", created.text_prefix());
    let (status, _, body) = cache_header(&m, "/api/tasks/tsk-ghost", &[]);
    assert_eq!(status, 200, "{body}");

    // no-cache: computed afresh, whatever the cache holds.
    let path = format!("/api/projects/{project}");
    cache_header(&m, &path, &[]);
    assert_eq!(cache_header(&m, &path, &[]).1, "hit");
    assert_eq!(
        cache_header(&m, &path, &[("cache-control", "no-cache")]).1,
        "bypass"
    );
    let metrics = String::from_utf8(m.get("/metrics").body).unwrap();
    assert!(
        metrics.contains("marcus_read_cache_total{route=\"/api/projects/{id}\",result=\"hit\"}"),
        "{metrics}"
    );
}

/// Done tasks in the status answer and in the task list, as `host` answers them now.
fn done_on(host: &Marcus, project: &str) -> (u64, u64) {
    let (status, _, body) = cache_header(host, &format!("/api/projects/{project}"), &[]);
    assert_eq!(status, 200, "{body}");
    let (status, _, tasks) = cache_header(
        host,
        &format!("/api/projects/{project}/tasks?status=done"),
        &[],
    );
    assert_eq!(status, 200, "{tasks}");
    (done_count(&body), tasks["count"].as_u64().unwrap())
}

#[test]
fn a_write_during_a_redis_stall_is_seen_on_both_hosts_as_soon_as_redis_wakes() {
    let Some(db) = PrivateDatabase::create("Redis stall") else {
        return;
    };
    let Some(redis) = PrivateRedis::start("Redis stall", PrivateRedis::free_port()) else {
        return;
    };
    let url = redis.url();
    let env = [
        ("DATABASE_URL", db.url.as_str()),
        ("REDIS_URL", url.as_str()),
        ("MARCUS_REDIS_PREFIX", "stall:"),
    ];
    let a = Marcus::start_env(&["--jobs-interval-ms", "0"], &env);
    let b = Marcus::start_env(&["--jobs-interval-ms", "0"], &env);
    let project = board(&a, 12);
    ok(
        &a,
        "register_agent",
        json!({"agent_id": "s", "name": "s", "role": "dev", "project_id": project}),
    );
    let status = format!("/api/projects/{project}");
    // A short stall (the other host may not notice it) and one as long as the reported one
    // (both hosts notice, and their probes give up on Redis for a while).
    for (round, stall) in [Duration::from_millis(700), Duration::from_millis(3600)]
        .into_iter()
        .enumerate()
    {
        let done = round as u64;
        for host in [&a, &b] {
            done_on(host, &project);
            assert_eq!(done_on(host, &project), (done, done));
            assert_eq!(
                cache_header(host, &status, &[]).1,
                "hit",
                "warm before the stall"
            );
        }
        redis.freeze();
        let frozen = Instant::now();
        complete_one(&a, "s");
        if let Some(rest) = stall.checked_sub(frozen.elapsed()) {
            std::thread::sleep(rest);
        }
        redis.thaw();
        // At once, on both hosts: the write is there.
        assert_eq!(
            done_on(&a, &project),
            (done + 1, done + 1),
            "writer, stall {stall:?}"
        );
        assert_eq!(
            done_on(&b, &project),
            (done + 1, done + 1),
            "other host, stall {stall:?}"
        );
        // And stays there while the hosts take Redis back.
        let back = wait_until(Duration::from_secs(10), || {
            [&a, &b].iter().all(|h| {
                h.get("/api/features").json()["backends"]["cache"]["healthy"] == true
                    && done_on(h, &project) == (done + 1, done + 1)
            })
        });
        assert!(back.is_some(), "redis not taken back after the stall");
        for host in [&a, &b] {
            assert_eq!(done_on(host, &project), (done + 1, done + 1));
            assert_eq!(
                cache_header(host, &status, &[]).1,
                "hit",
                "the shared cache works again"
            );
        }
    }
}
