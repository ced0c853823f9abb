//! The coordination board through the JSON API: races, leases, graph validation,
//! blockers and the OpenAPI document.

mod common;

use common::{Answer, Marcus};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

fn tool(m: &Marcus, name: &str, args: Value) -> Answer {
    m.post_json(&format!("/api/tools/{name}"), &args)
}

fn ok(m: &Marcus, name: &str, args: Value) -> Value {
    let a = tool(m, name, args);
    assert_eq!(
        a.status,
        200,
        "{name}: {}",
        String::from_utf8_lossy(&a.body)
    );
    a.json()
}

/// Every document of a collection, through the storage API.
fn all_docs(m: &Marcus, collection: &str, filter: Value) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor = Value::Null;
    loop {
        let page = m
            .post_json(
                &format!("/api/storage/{collection}/_query"),
                &json!({"where": filter, "limit": 1000, "cursor": cursor}),
            )
            .json();
        out.extend(
            page["documents"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["data"].clone()),
        );
        cursor = page["next_cursor"].clone();
        if cursor.is_null() {
            return out;
        }
    }
}

#[test]
fn thirty_two_agents_on_two_processes_complete_500_tasks_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let a = Marcus::start_in(dir.path(), &[]);
    let b = Marcus::start_in(dir.path(), &[]);
    let tasks: Vec<Value> = (0..500)
        .map(|i| {
            let deps = if i >= 50 {
                vec![format!("t{}", i - 50)]
            } else {
                vec![]
            };
            json!({"name": format!("t{i}"), "dependencies": deps, "estimated_hours": 1})
        })
        .collect();
    let created = ok(
        &a,
        "create_project",
        json!({"project_name": "race", "tasks": tasks}),
    );
    let project = created["project_id"].as_str().unwrap().to_string();
    let id_to_name: HashMap<String, String> = created["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["id"].as_str().unwrap().to_string(),
                t["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();

    let completed = AtomicUsize::new(0);
    let claims: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());
    let deadline = Instant::now() + Duration::from_secs(300);
    std::thread::scope(|s| {
        for n in 0..32 {
            let (server, completed, claims, project) = (
                if n % 2 == 0 { &a } else { &b },
                &completed,
                &claims,
                &project,
            );
            s.spawn(move || {
                let agent = format!("agent-{n}");
                ok(server, "register_agent", json!({"agent_id": agent, "name": agent, "role": "dev", "project_id": project}));
                while completed.load(Ordering::SeqCst) < 500 {
                    assert!(Instant::now() < deadline, "race did not finish in time");
                    let next = ok(server, "request_next_task", json!({"agent_id": agent}));
                    if next["success"] != true {
                        std::thread::sleep(Duration::from_millis(40));
                        continue;
                    }
                    assert_eq!(next["already_assigned"], false, "{agent} was handed a second task while holding one");
                    let task_id = next["task"]["id"].as_str().unwrap().to_string();
                    claims.lock().unwrap().push((task_id.clone(), agent.clone()));
                    let done = ok(server, "report_task_progress", json!({"agent_id": agent, "task_id": task_id, "status": "completed", "progress": 100}));
                    assert_eq!(done["status"], "done");
                    completed.fetch_add(1, Ordering::SeqCst);
                }
            });
        }
    });

    let claims = claims.into_inner().unwrap();
    assert_eq!(claims.len(), 500, "each task claimed once");
    let claimed: HashSet<&String> = claims.iter().map(|(t, _)| t).collect();
    assert_eq!(claimed.len(), 500, "no task went to two agents");

    // The durable event log agrees: one assignment and one completion per task, by the same agent.
    let events = all_docs(&a, "events", json!({"project_id": project}));
    let mut assigned: HashMap<String, Vec<String>> = HashMap::new();
    let mut done: HashMap<String, Vec<String>> = HashMap::new();
    for e in &events {
        let (task, agent) = (
            e["task_id"].as_str().unwrap_or("").to_string(),
            e["agent_id"].as_str().unwrap_or("").to_string(),
        );
        match e["kind"].as_str().unwrap() {
            "task_assigned" => assigned.entry(task).or_default().push(agent),
            "task_completed" => done.entry(task).or_default().push(agent),
            _ => {}
        }
    }
    assert_eq!(assigned.len(), 500);
    for (task, agents) in &assigned {
        assert_eq!(
            agents.len(),
            1,
            "{} assigned {} times",
            id_to_name[task],
            agents.len()
        );
        assert_eq!(done.get(task), Some(agents), "completed by its holder");
    }
    // Dependencies were respected: every task completed after its dependency.
    let tasks = ok(&b, "get_all_board_tasks", json!({"project_id": project}));
    let by_id: HashMap<&str, &Value> = tasks["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["id"].as_str().unwrap(), t))
        .collect();
    for t in by_id.values() {
        assert_eq!(t["status"], "done");
        for d in t["dependencies"].as_array().unwrap() {
            let dep = by_id[d.as_str().unwrap()];
            assert!(
                dep["completed_at"].as_u64() <= t["started_at"].as_u64(),
                "started before its dependency was done"
            );
        }
    }
    let status = ok(&a, "get_project_status", json!({"project_id": project}));
    assert_eq!(status["status"]["completion_percentage"], 100.0);
}

#[test]
fn expired_lease_goes_to_another_agent_and_the_old_holder_is_refused() {
    let m = Marcus::start(&[]);
    let p = ok(
        &m,
        "create_project",
        json!({"project_name": "lease", "options": {"lease_seconds": 2}, "tasks": [{"name": "only"}]}),
    );
    let project = p["project_id"].as_str().unwrap();
    for agent in ["old", "new"] {
        ok(
            &m,
            "register_agent",
            json!({"agent_id": agent, "name": agent, "role": "dev", "project_id": project}),
        );
    }
    let first = ok(&m, "request_next_task", json!({"agent_id": "old"}));
    let task_id = first["task"]["id"].as_str().unwrap().to_string();
    assert_eq!(first["lease_token"], 1);
    let busy = ok(&m, "request_next_task", json!({"agent_id": "new"}));
    assert_eq!(busy["success"], false);
    assert!((1..=30).contains(&busy["retry_after_seconds"].as_u64().unwrap()));

    std::thread::sleep(Duration::from_millis(2300));
    let second = ok(&m, "request_next_task", json!({"agent_id": "new"}));
    assert_eq!(second["task"]["id"], task_id.as_str());
    assert_eq!(second["lease_token"], 2);
    assert!(second["recovery_note"].as_str().unwrap().contains("old"));

    let progress = tool(
        &m,
        "report_task_progress",
        json!({"agent_id": "old", "task_id": task_id, "status": "in_progress", "progress": 90}),
    );
    assert_eq!(
        (progress.status, progress.error_code().as_str()),
        (409, "not_task_holder")
    );
    let blocker = tool(
        &m,
        "report_blocker",
        json!({"agent_id": "old", "task_id": task_id, "blocker_description": "stale"}),
    );
    assert_eq!(blocker.error_code(), "not_task_holder");
    let completion = tool(
        &m,
        "report_task_progress",
        json!({"agent_id": "old", "task_id": task_id, "status": "completed"}),
    );
    assert_eq!(
        (completion.status, completion.error_code().as_str()),
        (409, "stale_completion")
    );

    // Nothing the old holder sent changed the new holder's lease.
    let task = &ok(&m, "get_task_context", json!({"task_id": task_id}))["context"]["task"];
    assert_eq!(task["lease"]["agent_id"], "new");
    assert_eq!(task["lease"]["token"], 2);
    assert_eq!(task["progress"], 0);
    let done = ok(
        &m,
        "report_task_progress",
        json!({"agent_id": "new", "task_id": task_id, "status": "completed", "lease_token": 2}),
    );
    assert_eq!(done["status"], "done");
}

#[test]
fn cycles_and_unknown_dependencies_are_rejected_whole() {
    let m = Marcus::start(&[]);
    let p = ok(
        &m,
        "create_project",
        json!({"project_name": "graph", "tasks": [{"name": "base"}]}),
    );
    let project = p["project_id"].as_str().unwrap();
    let cycle = tool(
        &m,
        "create_tasks",
        json!({"project_id": project, "tasks": [
            {"name": "x", "dependencies": ["z"]}, {"name": "y", "dependencies": ["x"]}, {"name": "z", "dependencies": ["y", "base"]}
        ]}),
    );
    assert_eq!(cycle.status, 400);
    let msg = cycle.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        msg.contains("cycle") && msg.contains('x') && msg.contains('y') && msg.contains('z'),
        "{msg}"
    );
    let unknown = tool(
        &m,
        "create_tasks",
        json!({"project_id": project, "tasks": [{"name": "w", "dependencies": ["ghost"]}]}),
    );
    assert_eq!(unknown.status, 400);
    assert!(
        unknown.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("ghost")
    );
    let bad_project = tool(
        &m,
        "create_project",
        json!({"project_name": "bad", "tasks": [{"name": "a", "dependencies": ["a"]}]}),
    );
    assert_eq!(bad_project.status, 400);
    assert_eq!(
        ok(&m, "list_projects", json!({}))["count"],
        1,
        "the refused project was not written"
    );
    let tasks = ok(&m, "get_all_board_tasks", json!({"project_id": project}));
    assert_eq!(tasks["count"], 1, "nothing half-written");
    let missing = tool(
        &m,
        "create_tasks",
        json!({"project_id": project, "tasks": [{"description": "no name"}]}),
    );
    assert_eq!(missing.status, 400);
}

#[test]
fn blocked_task_is_resolved_and_finished() {
    let m = Marcus::start(&[]);
    let p = ok(
        &m,
        "create_project",
        json!({"project_name": "blocked", "tasks": [{"name": "a"}, {"name": "b", "dependencies": ["a"]}]}),
    );
    let project = p["project_id"].as_str().unwrap();
    ok(
        &m,
        "register_agent",
        json!({"agent_id": "ag", "name": "ag", "role": "dev", "project_id": project}),
    );
    let t = ok(&m, "request_next_task", json!({"agent_id": "ag"}));
    let task_id = t["task"]["id"].as_str().unwrap().to_string();
    let blocked = ok(
        &m,
        "report_blocker",
        json!({"agent_id": "ag", "task_id": task_id, "blocker_description": "needs credentials", "severity": "high"}),
    );
    let blocker_id = blocked["blocker_id"].as_str().unwrap().to_string();
    let waiting = ok(&m, "request_next_task", json!({"agent_id": "ag"}));
    assert_eq!(waiting["success"], false);
    assert!(
        waiting["retry_reason"]
            .as_str()
            .unwrap()
            .contains("blocked"),
        "{waiting}"
    );
    let health = ok(&m, "check_board_health", json!({"project_id": project}));
    assert!(health["health"]["score"].as_u64().unwrap() <= 100);

    let resolved = m.post_json(
        &format!("/api/blockers/{blocker_id}/resolve"),
        &json!({"resolution": "credentials added"}),
    );
    assert_eq!(resolved.status, 200);
    assert_eq!(resolved.json()["task_status"], "todo");
    let again = ok(&m, "request_next_task", json!({"agent_id": "ag"}));
    assert_eq!(again["task"]["id"], task_id.as_str());
    ok(
        &m,
        "report_task_progress",
        json!({"agent_id": "ag", "task_id": task_id, "status": "completed"}),
    );
    let b = ok(&m, "request_next_task", json!({"agent_id": "ag"}));
    assert_eq!(b["task"]["name"], "b");
    let un = m.post_json(
        &format!("/api/tasks/{}/unassign", b["task"]["id"].as_str().unwrap()),
        &json!({}),
    );
    assert_eq!(un.json()["status"], "todo");
}

#[test]
fn openapi_document_matches_the_routes() {
    let m = Marcus::start(&[]);
    let doc = m.get("/api/openapi.json").json();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 20, "{} paths", paths.len());
    for (path, ops) in paths {
        for method in ops.as_object().unwrap().keys() {
            let concrete: String = path
                .split('/')
                .map(|seg| match seg {
                    "{tool}" => "ping",
                    s if s.starts_with('{') => "x1",
                    s => s,
                })
                .collect::<Vec<_>>()
                .join("/");
            let method = method.to_ascii_uppercase();
            let body: Option<&[u8]> = if method == "POST" || method == "PUT" {
                Some(b"{}")
            } else {
                None
            };
            let a = m.request(
                &method,
                &concrete,
                &[("content-type", "application/json")],
                body,
            );
            assert_ne!(
                a.status, 405,
                "{method} {concrete} is documented but not routed"
            );
            if a.status == 404 {
                let message = a.json()["error"]["message"]
                    .as_str()
                    .unwrap_or("")
                    .to_string();
                assert!(
                    !message.starts_with("no route"),
                    "{method} {concrete} is documented but not routed: {message}"
                );
            }
        }
    }
    // And a route that exists is documented.
    assert!(paths.contains_key("/api/agents/{agent_id}/next-task"));
}
