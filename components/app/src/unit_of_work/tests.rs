//! The unit of work against the in-memory platform: what a write owes joins its change,
//! and the read cache forgets what a committed write touched.

use crate::platform::Platform;
use crate::platform::in_memory::InMemory;
use crate::records::collections;
use crate::tools::{self, ToolCtx};
use marcus_core::read_cache::{generation_key, missing_task_key};
use serde_json::{Value, json};

fn ok(tool: &str, args: Value) -> Value {
    let Value::Object(args) = args else {
        panic!("arguments are an object")
    };
    let spec = tools::find(tool).expect("a registered tool");
    tools::call(spec, &ToolCtx::default(), &args)
        .unwrap_or_else(|e| panic!("{tool}: {} {}", e.code, e.message))
}

fn generation(platform: &InMemory, project: &str) -> Option<Vec<u8>> {
    platform.cache_get(&generation_key(project)).unwrap()
}

#[test]
fn a_moving_event_queues_the_health_recompute_in_the_same_change() {
    let platform = InMemory::installed();
    let created = ok("create_project", json!({"project_name": "p"}));
    let project = created["project_id"].as_str().unwrap();
    assert!(platform.documents(collections::JOBS).is_empty());
    ok(
        "create_tasks",
        json!({"project_id": project, "tasks": [{"name": "only"}]}),
    );
    let jobs = platform.documents(collections::JOBS);
    assert_eq!(jobs.len(), 1, "tasks_created owes one recompute: {jobs:?}");
    assert!(jobs[0].id.ends_with(project));
    // A second moving write replaces the pending job instead of adding another.
    ok(
        "create_tasks",
        json!({"project_id": project, "tasks": [{"name": "more"}]}),
    );
    let jobs = platform.documents(collections::JOBS);
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].version, 2);
}

#[test]
fn a_committed_write_gives_its_project_a_new_cache_generation() {
    let platform = InMemory::installed();
    let created = ok(
        "create_project",
        json!({"project_name": "p", "tasks": [{"name": "only"}]}),
    );
    let project = created["project_id"].as_str().unwrap().to_string();
    ok("get_project_status", json!({"project_id": project}));
    let before = generation(platform, &project).expect("a cached read set a generation");
    ok("register_agent", json!({"agent_id": "a", "name": "a"}));
    let claimed = ok("request_next_task", json!({"agent_id": "a"}));
    assert_eq!(claimed["task"]["name"], "only");
    let after = generation(platform, &project).unwrap();
    assert_ne!(
        before, after,
        "the claim invalidated the project's cached reads"
    );
}

#[test]
fn a_missing_task_answer_is_cached_until_a_task_with_that_id_is_written() {
    let platform = InMemory::installed();
    ok("create_project", json!({"project_name": "p"}));
    let key = missing_task_key("t-1");
    let args = json!({"task_id": "t-1"});
    let Value::Object(args) = args else {
        unreachable!()
    };
    let spec = tools::find("get_task_context").unwrap();
    let missing = tools::call(spec, &ToolCtx::default(), &args).unwrap_err();
    assert_eq!(missing.status, 404);
    assert!(platform.cached(&key), "the not-found answer is cached");
    let raw = crate::bindings::storage::Write {
        collection: collections::TASKS.into(),
        id: "t-1".into(),
        data: "{}".into(),
        expect: crate::bindings::storage::Expect::Any,
    };
    super::raw::put_many(&[raw]).unwrap();
    assert!(
        !platform.cached(&key),
        "writing the task removed the negative entry"
    );
}

#[test]
fn a_claim_and_a_completion_cross_the_platform_three_times_each() {
    let platform = InMemory::installed();
    let created = ok(
        "create_project",
        json!({"project_name": "p", "tasks": [{"name": "first"}, {"name": "then", "dependencies": ["first"]}]}),
    );
    let project = created["project_id"].as_str().unwrap().to_string();
    ok(
        "register_agent",
        json!({"agent_id": "a", "name": "a", "project_id": project}),
    );
    let calls = |f: &dyn Fn() -> Value| {
        let before = platform.calls();
        let answer = f();
        (platform.calls() - before, answer)
    };

    // The agent; one read-many (the pool's two queries, the project for its lease length,
    // its webhook subscriptions); one commit carrying the write, its invalidations and its
    // announcements.
    let (claim, first) = calls(&|| ok("request_next_task", json!({"agent_id": "a"})));
    assert_eq!(claim, 3, "a claim made {claim} platform calls: {first}");
    let published = platform.published();
    assert_eq!(
        published
            .iter()
            .map(|(c, _)| c.as_str())
            .collect::<Vec<_>>()[published.len() - 2..],
        [format!("project:{project}").as_str(), "agents"],
        "the claim's commit announced it on the project's and the agents' channels"
    );

    // The agent and its task (one get-many); the dependents with the webhook subscriptions
    // (one read-many); one commit.
    let task_id = first["task"]["id"].as_str().unwrap().to_string();
    let (completion, done) = calls(&|| {
        ok(
            "report_task_progress",
            json!({"agent_id": "a", "task_id": task_id, "status": "completed", "progress": 100}),
        )
    });
    assert_eq!(
        completion, 3,
        "a completion made {completion} platform calls: {done}"
    );

    // A task with a dependency also reads it (one get-many) before handing it out.
    let (claim, then) = calls(&|| ok("request_next_task", json!({"agent_id": "a"})));
    assert_eq!(then["task"]["name"], "then", "{then}");
    assert_eq!(
        claim, 4,
        "a claim with a dependency made {claim} platform calls"
    );
}
