//! Agents that wait for work instead of polling: `request_next_task` with `wait_seconds`
//! answers with the task a completion makes ready (on one host, and on another host of the
//! team tier than the completion), answers with the usual retry when the time is up, holds
//! no database connection while it waits (more waiters than the PostgreSQL pool has
//! connections leave every other request served), and a host that runs out of waiting
//! places answers at once rather than starving other requests of instance slots.

mod common;

use common::Marcus;
use common::board::{ok, tool};
use common::team::team;
use serde_json::{Value, json};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A project `first` -> `second`, agents `a` and `b`; `a` holds `first`. Answers the
/// project id and `first`'s id.
fn chain(m: &Marcus) -> (String, String) {
    let p = ok(
        m,
        "create_project",
        json!({"project_name": "wait", "tasks": [
            {"name": "first"}, {"name": "second", "dependencies": ["first"]}
        ]}),
    );
    let project = p["project_id"].as_str().unwrap().to_string();
    for agent in ["a", "b"] {
        ok(
            m,
            "register_agent",
            json!({"agent_id": agent, "name": agent, "project_id": project}),
        );
    }
    let first = ok(m, "request_next_task", json!({"agent_id": "a"}));
    assert_eq!(first["task"]["name"], "first");
    (project, first["task"]["id"].as_str().unwrap().to_string())
}

/// `b` waits on `waiter` while `a` completes `first` on `completer` after a pause; answers
/// what `b` got and how long after the completion's answer it came.
fn wait_across(waiter: &Marcus, completer: &Marcus, first: &str) -> (Value, Duration) {
    let url = waiter.url.clone();
    let (tx, rx) = mpsc::channel();
    let thread = std::thread::spawn(move || {
        let answer = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(40))
            .build()
            .post(&format!("{url}/api/tools/request_next_task"))
            .send_json(json!({"agent_id": "b", "wait_seconds": 20}))
            .expect("the waiting call answers")
            .into_json::<Value>()
            .unwrap();
        tx.send((answer, Instant::now())).unwrap();
    });
    // The waiter is parked on the channel before the completion comes.
    std::thread::sleep(Duration::from_millis(700));
    assert!(
        rx.try_recv().is_err(),
        "nothing was ready: it must still wait"
    );
    ok(
        completer,
        "report_task_progress",
        json!({"agent_id": "a", "task_id": first, "status": "completed"}),
    );
    let completed = Instant::now();
    let (answer, at) = rx.recv_timeout(Duration::from_secs(30)).expect("an answer");
    thread.join().unwrap();
    (answer, at.saturating_duration_since(completed))
}

#[test]
fn a_waiting_agent_gets_the_task_its_dependency_releases() {
    let m = Marcus::start_env(&[], &[("RUST_LOG", "info")]);
    let (_project, first) = chain(&m);
    let (answer, after) = wait_across(&m, &m, &first);
    assert_eq!(answer["task"]["name"], "second", "{answer}");
    assert_eq!(answer["success"], true);
    assert!(
        after < Duration::from_secs(5),
        "woken by the completion, not by its 20 s running out: {after:?}"
    );
    // Agent activity is in the server's log, one info line each.
    let log = m.stderr_text();
    for line in ["agent registered", "task claimed", "task completed"] {
        assert!(log.contains(line), "no {line:?} line in:\n{log}");
    }
    assert!(
        log.contains("agent=\"b\"") || log.contains("agent=b"),
        "{log}"
    );
}

#[test]
fn a_wait_ends_with_the_retry_answer_when_nothing_becomes_ready() {
    let m = Marcus::start(&[]);
    chain(&m);
    let started = Instant::now();
    let answer = ok(
        &m,
        "request_next_task",
        json!({"agent_id": "b", "wait_seconds": 1.5}),
    );
    let took = started.elapsed();
    assert_eq!(answer["success"], false, "{answer}");
    assert!(answer["retry_after_seconds"].as_u64().is_some());
    assert!(took >= Duration::from_millis(1400), "waited {took:?}");
    for bad in [json!(61), json!(-1), json!("soon")] {
        let refused = tool(
            &m,
            "request_next_task",
            json!({"agent_id": "b", "wait_seconds": bad}),
        );
        assert_eq!(refused.status, 400, "{bad}");
        let message = refused.json()["error"]["message"].clone();
        assert!(
            message.as_str().unwrap().contains("wait_seconds"),
            "{message}"
        );
    }
}

#[test]
fn a_wait_longer_than_the_request_deadline_is_not_cut_off() {
    let m = Marcus::start(&["--request-timeout-ms", "1000"]);
    chain(&m);
    let answer = ok(
        &m,
        "request_next_task",
        json!({"agent_id": "b", "wait_seconds": 2.5}),
    );
    assert_eq!(answer["success"], false, "{answer}");
}

#[test]
fn a_host_out_of_waiting_places_answers_at_once() {
    // Four instance slots leave two waiting places.
    let m = Marcus::start(&["--max-concurrent", "4"]);
    let (project, _first) = chain(&m);
    for agent in ["c", "d", "e"] {
        ok(
            &m,
            "register_agent",
            json!({"agent_id": agent, "name": agent, "project_id": project}),
        );
    }
    let url = m.url.clone();
    let waiters: Vec<_> = ["b", "c"]
        .into_iter()
        .map(|agent| {
            let url = url.clone();
            std::thread::spawn(move || {
                ureq::post(&format!("{url}/api/tools/request_next_task"))
                    .send_json(json!({"agent_id": agent, "wait_seconds": 4}))
                    .map(|r| r.status())
                    .map_err(|e| e.to_string())
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(700));
    let started = Instant::now();
    let third = ok(
        &m,
        "request_next_task",
        json!({"agent_id": "d", "wait_seconds": 4}),
    );
    assert_eq!(third["success"], false);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "no waiting place left: answered at once, not after its 4 s ({:?})",
        started.elapsed()
    );
    // The remaining slots still serve other requests while two requests wait.
    assert_eq!(m.get("/api/projects").status, 200);
    for w in waiters {
        assert_eq!(w.join().unwrap().unwrap(), 200);
    }
}

#[test]
fn team_tier_a_wait_on_one_host_is_woken_by_a_completion_on_another() {
    let Some(team) = team("waiting") else {
        return;
    };
    let env = team.env();
    let one = Marcus::start_env(&[], &env);
    let two = Marcus::start_env(&[], &env);
    let (_project, first) = chain(&one);
    let (answer, after) = wait_across(&two, &one, &first);
    assert_eq!(answer["task"]["name"], "second", "{answer}");
    assert!(
        after < Duration::from_secs(5),
        "woken through Redis by the other host's completion: {after:?}"
    );
}

#[test]
fn team_tier_waiters_hold_no_database_connection() {
    let Some(team) = team("waiting") else {
        return;
    };
    let m = Marcus::start_env(&[], &team.env());
    let (project, _first) = chain(&m);
    // More waiters than the host's PostgreSQL pool has connections (16).
    let agents: Vec<String> = (0..40).map(|i| format!("w{i}")).collect();
    for agent in &agents {
        ok(
            &m,
            "register_agent",
            json!({"agent_id": agent, "name": agent, "project_id": project}),
        );
    }
    let url = m.url.clone();
    let waiters: Vec<_> = agents
        .iter()
        .cloned()
        .map(|agent| {
            let url = url.clone();
            std::thread::spawn(move || {
                ureq::AgentBuilder::new()
                    .timeout(Duration::from_secs(40))
                    .build()
                    .post(&format!("{url}/api/tools/request_next_task"))
                    .send_json(json!({"agent_id": agent, "wait_seconds": 8}))
                    .map(|r| r.status())
                    .map_err(|e| e.to_string())
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    // Every read and write still gets a connection while the 40 wait.
    for i in 0..5 {
        let started = Instant::now();
        let status = ok(&m, "get_project_status", json!({"project_id": project}));
        assert_eq!(status["success"], true);
        let name = format!("late{i}");
        ok(
            &m,
            "register_agent",
            json!({"agent_id": name, "name": name, "project_id": project}),
        );
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "a read waited {:?} for a connection",
            started.elapsed()
        );
    }
    for w in waiters {
        assert_eq!(w.join().unwrap().unwrap(), 200);
    }
}
