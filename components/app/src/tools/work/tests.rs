//! The work loop against the in-memory platform: claims, lost races, completions and what
//! a write publishes, checked natively without a host.

use crate::platform::Platform;
use crate::platform::in_memory::InMemory;
use crate::records::collections;
use crate::tools::{self, ToolCtx};
use serde_json::{Map, Value, json};

fn call(tool: &str, args: Value) -> Result<Value, marcus_core::api_error::ApiError> {
    let spec = tools::find(tool).expect("a registered tool");
    let Value::Object(args) = args else {
        panic!("arguments are an object")
    };
    tools::call(spec, &ToolCtx::default(), &args)
}

fn ok(tool: &str, args: Value) -> Value {
    call(tool, args).unwrap_or_else(|e| panic!("{tool}: {} {}", e.code, e.message))
}

/// A project with tasks `first` (high priority), `second`, and `after` depending on
/// `first`, and agents a and b; answers the project id.
fn board() -> String {
    let created = ok(
        "create_project",
        json!({"project_name": "p", "tasks": [
            {"name": "first", "priority": "high"},
            {"name": "second"},
            {"name": "after", "dependencies": ["first"]}
        ]}),
    );
    for agent in ["a", "b", "c"] {
        ok("register_agent", json!({"agent_id": agent, "name": agent}));
    }
    created["project_id"].as_str().unwrap().to_string()
}

fn task_id(project: &str, name: &str) -> String {
    let tasks = ok("get_all_board_tasks", json!({"project_id": project}));
    tasks["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .map(|t| t["id"].as_str().unwrap().to_string())
        .unwrap()
}

fn events(platform: &InMemory, kind: &str) -> Vec<Map<String, Value>> {
    platform
        .documents(collections::EVENTS)
        .into_iter()
        .filter_map(|d| match serde_json::from_str(&d.data) {
            Ok(Value::Object(m)) if m["kind"] == kind => Some(m),
            _ => None,
        })
        .collect()
}

#[test]
fn claims_go_by_priority_one_task_per_agent_and_say_why_none_is_left() {
    let _platform = InMemory::installed();
    let project = board();
    let a = ok("request_next_task", json!({"agent_id": "a"}));
    assert_eq!(a["task"]["name"], "first");
    let again = ok("request_next_task", json!({"agent_id": "a"}));
    assert_eq!(again["task"]["id"], a["task"]["id"]);
    assert_eq!(again["already_assigned"], true);
    let b = ok("request_next_task", json!({"agent_id": "b"}));
    assert_eq!(b["task"]["name"], "second");
    let c = ok("request_next_task", json!({"agent_id": "c"}));
    assert_eq!(c["success"], false);
    assert!(c["task"].is_null());
    assert!(
        c["retry_reason"].as_str().unwrap().contains("first"),
        "names what `after` waits for: {c}"
    );
    assert_eq!(c["project_id"], project.as_str());
}

#[test]
fn a_claim_that_loses_its_race_takes_another_task_and_leaves_nothing_behind() {
    let platform = InMemory::installed();
    let project = board();
    let first = task_id(&project, "first");
    // Another host's agent takes `first` between this claim's read and its write.
    let taken = first.clone();
    platform.before_next_write(move |p| {
        let doc = p
            .documents(collections::TASKS)
            .into_iter()
            .find(|d| d.id == taken)
            .unwrap();
        let mut task: Value = serde_json::from_str(&doc.data).unwrap();
        task["status"] = json!("in_progress");
        task["assigned_to"] = json!("elsewhere");
        task["lease"] = json!({"agent_id": "elsewhere", "token": 1, "granted_at": 0,
            "expires_at": u64::MAX / 2, "renewals": 0});
        use crate::platform::Platform;
        p.put(
            collections::TASKS,
            &taken,
            &task.to_string(),
            crate::bindings::storage::Expect::Version(doc.version),
        )
        .unwrap();
    });
    let published_before = platform.published().len();
    let calls_before = platform.calls();
    let a = ok("request_next_task", json!({"agent_id": "a"}));
    assert_eq!(a["task"]["name"], "second", "the lost race moved on: {a}");
    // The agent and the projects (the agent has none: the only project is the one), then
    // the first attempt: one read-many and the commit that lost (the other host's write
    // lands inside it, one call more); the second: one read-many (the agent with the board
    // again) and the commit. A lost race costs two calls.
    assert_eq!(
        platform.calls() - calls_before,
        2 + (2 + 1) + 2,
        "the calls of a claim that lost one race"
    );
    let assigned = events(platform, "task_assigned");
    assert_eq!(assigned.len(), 1, "the lost attempt stored no event");
    assert_eq!(assigned[0]["task_id"], a["task"]["id"]);
    let announced: Vec<_> = platform.published()[published_before..]
        .iter()
        .filter(|(_, payload)| payload.contains("task_assigned"))
        .cloned()
        .collect();
    assert_eq!(
        announced.len(),
        2,
        "one assignment, on the project's and the agents' channel: {announced:?}"
    );
}

#[test]
fn a_completion_frees_its_dependents_in_the_same_change() {
    let _platform = InMemory::installed();
    let project = board();
    let a = ok("request_next_task", json!({"agent_id": "a"}));
    let token = a["lease_token"].clone();
    let after = task_id(&project, "after");
    let c = ok("request_next_task", json!({"agent_id": "c"}));
    assert_eq!(c["task"]["name"], "second");
    let waiting = ok("request_next_task", json!({"agent_id": "b"}));
    assert!(waiting["task"].is_null());
    ok(
        "report_task_progress",
        json!({"agent_id": "a", "task_id": a["task"]["id"], "status": "completed",
            "progress": 100, "lease_token": token}),
    );
    let b = ok("request_next_task", json!({"agent_id": "b"}));
    assert_eq!(b["task"]["id"], after.as_str());
    let agent = ok("get_agent_status", json!({"agent_id": "a"}));
    assert_eq!(agent["agent"]["completed_tasks_count"], 1);
    assert!(agent["current_task"].is_null());
}

#[test]
fn a_stale_holder_is_fenced_out_after_its_lease_lapsed_and_the_task_moved_on() {
    let platform = InMemory::installed();
    board();
    let a = ok("request_next_task", json!({"agent_id": "a"}));
    let stale_token = a["lease_token"].as_u64().unwrap();
    let b = ok("request_next_task", json!({"agent_id": "b"}));
    assert_eq!(b["task"]["name"], "second");
    // `a` goes quiet past its lease; `c` takes the task over.
    platform.advance(a["lease_expires_at"].as_u64().unwrap() - platform_now(platform) + 1);
    let c = ok("request_next_task", json!({"agent_id": "c"}));
    assert_eq!(c["task"]["id"], a["task"]["id"]);
    assert_eq!(c["lease_token"].as_u64().unwrap(), stale_token + 1);
    assert!(c["recovery_note"].as_str().unwrap().contains("(a)"));
    let expired = events(platform, "lease_expired");
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0]["agent_id"], "a");
    let refused = call(
        "report_task_progress",
        json!({"agent_id": "a", "task_id": a["task"]["id"], "status": "completed",
            "lease_token": stale_token}),
    )
    .expect_err("the stale holder cannot complete");
    assert_eq!(refused.status, 409);
}

fn platform_now(platform: &InMemory) -> u64 {
    use crate::platform::Platform;
    platform.now_ms()
}

#[test]
fn a_refused_write_stores_and_announces_nothing() {
    let platform = InMemory::installed();
    board();
    let stored = platform.documents(collections::EVENTS).len();
    let published = platform.published().len();
    let refused = call(
        "report_task_progress",
        json!({"agent_id": "a", "task_id": "no-such-task", "status": "in_progress"}),
    )
    .expect_err("no such task");
    assert_eq!(refused.code, "task_not_found");
    assert_eq!(platform.documents(collections::EVENTS).len(), stored);
    assert_eq!(platform.published().len(), published);
}

#[test]
fn a_waiting_agent_gets_the_task_a_completion_makes_ready() {
    let platform = InMemory::installed();
    let project = board();
    let first = ok("request_next_task", json!({"agent_id": "a"}));
    ok("request_next_task", json!({"agent_id": "b"}));
    let first_id = first["task"]["id"].as_str().unwrap().to_string();
    let started = platform.now_ms();
    platform.during_next_wait(move |_| {
        ok(
            "report_task_progress",
            json!({"agent_id": "a", "task_id": first_id, "status": "completed"}),
        );
    });
    let waited = ok(
        "request_next_task",
        json!({"agent_id": "c", "wait_seconds": 30}),
    );
    assert_eq!(waited["task"]["name"], "after", "{waited}");
    assert_eq!(waited["task"]["project_id"], project.as_str());
    assert_eq!(
        platform.now_ms(),
        started,
        "woken by the completion, not by the time running out"
    );
}

#[test]
fn a_wait_with_nothing_happening_ends_with_the_retry_answer_after_its_time() {
    let platform = InMemory::installed();
    board();
    ok("request_next_task", json!({"agent_id": "a"}));
    ok("request_next_task", json!({"agent_id": "b"}));
    let started = platform.now_ms();
    let waited = ok(
        "request_next_task",
        json!({"agent_id": "c", "wait_seconds": 5}),
    );
    assert_eq!(waited["success"], false);
    assert!(waited["retry_after_seconds"].as_u64().is_some());
    assert!(platform.now_ms() - started >= 5_000);
    for bad in [json!(61), json!(-1), json!("10")] {
        let e = call(
            "request_next_task",
            json!({"agent_id": "c", "wait_seconds": bad}),
        )
        .unwrap_err();
        assert_eq!(e.status, 400, "{bad}: {}", e.message);
        assert!(e.message.contains("wait_seconds"), "{}", e.message);
    }
}

#[test]
fn a_holder_whose_lease_lapsed_completes_while_nobody_took_the_task() {
    let platform = InMemory::installed();
    let project = board();
    let first = ok("request_next_task", json!({"agent_id": "a"}));
    let first_id = first["task"]["id"].as_str().unwrap().to_string();
    let token = first["lease_token"].as_u64().unwrap();
    ok("request_next_task", json!({"agent_id": "b"}));
    // A long turn: the lease runs out and the sweep returns the task to the pool.
    platform.advance(200_000);
    crate::jobs::lease_sweep::run().unwrap();
    let done = ok(
        "report_task_progress",
        json!({"agent_id": "a", "task_id": first_id, "status": "completed", "lease_token": token}),
    );
    assert_eq!(done["status"], "done", "{done}");
    let after = task_id(&project, "after");
    let after = crate::records::get::<marcus_core::board::model::Task>(collections::TASKS, &after)
        .unwrap()
        .unwrap();
    assert_eq!(after.value.deps_remaining, 0, "its dependent is ready now");
}

#[test]
fn a_lapsed_holders_completion_is_stale_once_another_agent_claimed_the_task() {
    let platform = InMemory::installed();
    board();
    let first = ok("request_next_task", json!({"agent_id": "a"}));
    let first_id = first["task"]["id"].as_str().unwrap().to_string();
    platform.advance(200_000);
    let b = ok("request_next_task", json!({"agent_id": "b"}));
    assert_eq!(
        b["task"]["id"],
        first_id.as_str(),
        "b takes the lapsed task first"
    );
    let e = call(
        "report_task_progress",
        json!({"agent_id": "a", "task_id": first_id, "status": "completed"}),
    )
    .unwrap_err();
    assert_eq!(e.code, "stale_completion");
}

#[test]
fn a_decision_or_reading_the_context_renews_the_holders_lease() {
    let platform = InMemory::installed();
    board();
    let first = ok("request_next_task", json!({"agent_id": "a"}));
    let first_id = first["task"]["id"].as_str().unwrap().to_string();
    let granted = first["lease_expires_at"].as_u64().unwrap();
    platform.advance(170_000);
    ok(
        "log_decision",
        json!({"agent_id": "a", "task_id": first_id, "decision": "use SQLite"}),
    );
    let status = ok("get_agent_status", json!({"agent_id": "a"}));
    let renewed = lease_expiry(&first_id);
    assert!(
        renewed >= granted + 170_000,
        "renewed to {renewed}, granted {granted}: {status}"
    );
    // Someone who is not the holder renews nothing.
    platform.advance(170_000);
    ok(
        "log_decision",
        json!({"agent_id": "b", "task_id": first_id, "decision": "noted"}),
    );
    assert_eq!(lease_expiry(&first_id), renewed);
}

fn lease_expiry(task_id: &str) -> u64 {
    let task = crate::records::get::<marcus_core::board::model::Task>(collections::TASKS, task_id)
        .unwrap()
        .unwrap();
    task.value.lease.unwrap().expires_at
}

#[test]
fn a_wait_on_a_finished_project_answers_at_once() {
    let platform = InMemory::installed();
    board();
    for agent in ["a", "b", "a"] {
        let got = ok("request_next_task", json!({"agent_id": agent}));
        let id = got["task"]["id"].as_str().unwrap().to_string();
        ok(
            "report_task_progress",
            json!({"agent_id": agent, "task_id": id, "status": "completed"}),
        );
    }
    let started = platform.now_ms();
    let done = ok(
        "request_next_task",
        json!({"agent_id": "c", "wait_seconds": 60}),
    );
    assert_eq!(done["retry_reason"], "all tasks are complete", "{done}");
    assert_eq!(platform.now_ms(), started, "nothing to wait for");
}
