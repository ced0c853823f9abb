//! An agent's status as every reader reports it follows its lease: working only while the
//! lease on its current task is live at the time of the read.

use crate::platform::in_memory::InMemory;
use crate::tools::{self, ToolCtx};
use serde_json::{Value, json};

fn ok(tool: &str, args: Value) -> Value {
    let spec = tools::find(tool).expect("a registered tool");
    let Value::Object(args) = args else {
        panic!("arguments are an object")
    };
    tools::call(spec, &ToolCtx::default(), &args)
        .unwrap_or_else(|e| panic!("{tool}: {} {}", e.code, e.message))
}

/// What each reader says about agent `a` in `project`: its status and current tasks.
fn readings(project: &str) -> Vec<(String, Value, Value)> {
    let status = ok("get_agent_status", json!({"agent_id": "a"}));
    let listed = ok("list_registered_agents", json!({}));
    let listed = listed["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|ag| ag["id"] == "a")
        .cloned()
        .unwrap();
    let workers = ok("get_project_status", json!({"project_id": project}))["workers"].clone();
    vec![
        (
            "get_agent_status".into(),
            status["agent"]["status"].clone(),
            status["agent"]["current_tasks"].clone(),
        ),
        (
            "list_registered_agents".into(),
            listed["status"].clone(),
            listed["current_tasks"].clone(),
        ),
        (
            "get_project_status".into(),
            json!(if workers["active"] == 1 {
                "working"
            } else {
                "available"
            }),
            workers.clone(),
        ),
    ]
}

#[test]
fn every_reader_says_working_only_while_the_lease_is_live() {
    let platform = InMemory::installed();
    let created = ok(
        "create_project",
        json!({"project_name": "p", "tasks": [{"name": "t"}], "options": {"lease_seconds": 10}}),
    );
    let project = created["project_id"].as_str().unwrap().to_string();
    ok("register_agent", json!({"agent_id": "a", "name": "Ada"}));
    let claim = ok("request_next_task", json!({"agent_id": "a"}));
    let task = claim["task"]["id"].clone();
    for (reader, status, _) in readings(&project) {
        assert_eq!(status, "working", "{reader} while the lease is live");
    }
    let status = ok("get_agent_status", json!({"agent_id": "a"}));
    assert_eq!(status["agent"]["current_tasks"], json!([task]));
    assert_eq!(status["current_assignment"]["task_id"], task);

    // Shorter than a cached answer lives: the status must not come from the cache.
    platform.advance(10_000);
    for (reader, status, _) in readings(&project) {
        assert_eq!(status, "available", "{reader} after the lease lapsed");
    }
    let status = ok("get_agent_status", json!({"agent_id": "a"}));
    assert_eq!(status["agent"]["current_tasks"], json!([]));
    assert_eq!(status["agent"]["current_task_id"], Value::Null);
    assert!(status["current_task"].is_null() && status.get("current_assignment").is_none());
    assert_eq!(
        status["agent"]["performance_score"], 0.0,
        "its only hand-off ended without a completion"
    );
    let health = ok("check_board_health", json!({"project_id": project}));
    assert_eq!(health["metrics"]["working_agents"], 0, "{health}");

    // Asking again takes the lapsed task back under a new lease: working again.
    ok("request_next_task", json!({"agent_id": "a"}));
    for (reader, status, _) in readings(&project) {
        assert_eq!(status, "working", "{reader} under the new lease");
    }
}
