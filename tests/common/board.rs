//! Board helpers shared by the suites: tool calls over the JSON API and the two-process race.

use super::serves::{self, Serves};
use super::{Answer, Marcus};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Calls a tool through `/api/tools/{name}`.
pub fn tool(m: &Marcus, name: &str, args: Value) -> Answer {
    m.post_json(&format!("/api/tools/{name}"), &args)
}

/// Calls a tool and asserts it answered 200.
pub fn ok(m: &Marcus, name: &str, args: Value) -> Value {
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
pub fn all_docs(m: &Marcus, collection: &str, filter: Value) -> Vec<Value> {
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

/// A race's project and its tasks' names by id.
pub struct Race {
    /// The project raced through.
    pub project: String,
    /// Task names by id.
    pub names: HashMap<String, String>,
}

/// `agents` agents, spread over `servers` in turn, race through `tasks` tasks in chains
/// (task i depends on task i - `chains`), each completing what it claims; asserts no agent
/// was handed a second task while holding one and that each claim and completion happened
/// once per task.
pub fn race_through_chains(
    servers: &[&dyn Serves],
    agents: usize,
    tasks: usize,
    chains: usize,
) -> Race {
    let specs: Vec<Value> = (0..tasks)
        .map(|i| {
            let deps = if i >= chains {
                vec![format!("t{}", i - chains)]
            } else {
                vec![]
            };
            json!({"name": format!("t{i}"), "dependencies": deps, "estimated_hours": 1})
        })
        .collect();
    let created = serves::ok(
        servers[0],
        "create_project",
        json!({"project_name": "race", "tasks": specs}),
    );
    let project = created["project_id"].as_str().unwrap().to_string();
    let names: HashMap<String, String> = created["tasks"]
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
        for n in 0..agents {
            let (server, completed, claims, project) =
                (servers[n % servers.len()], &completed, &claims, &project);
            s.spawn(move || {
                let agent = format!("agent-{n}");
                serves::ok(server, "register_agent", json!({"agent_id": agent, "name": agent, "role": "dev", "project_id": project}));
                while completed.load(Ordering::SeqCst) < tasks {
                    assert!(Instant::now() < deadline, "race did not finish in time");
                    let next = serves::ok(server, "request_next_task", json!({"agent_id": agent}));
                    if next["success"] != true {
                        std::thread::sleep(Duration::from_millis(40));
                        continue;
                    }
                    assert_eq!(next["already_assigned"], false, "{agent} was handed a second task while holding one");
                    let task_id = next["task"]["id"].as_str().unwrap().to_string();
                    claims.lock().unwrap().push((task_id.clone(), agent.clone()));
                    let done = serves::ok(server, "report_task_progress", json!({"agent_id": agent, "task_id": task_id, "status": "completed", "progress": 100}));
                    assert_eq!(done["status"], "done");
                    completed.fetch_add(1, Ordering::SeqCst);
                }
            });
        }
    });
    let claims = claims.into_inner().unwrap();
    assert_eq!(claims.len(), tasks, "each task claimed once");
    let claimed: HashSet<&String> = claims.iter().map(|(t, _)| t).collect();
    assert_eq!(claimed.len(), tasks, "no task went to two agents");
    Race { project, names }
}

/// 32 agents, half on each server, race through 500 tasks (ten chains of 50); checks that
/// every task was claimed once, completed by its holder, after its dependency, as the
/// durable event log records it. Returns the project id.
pub fn thirty_two_agents_complete_500_tasks(a: &Marcus, b: &Marcus) -> String {
    let Race {
        project,
        names: id_to_name,
    } = race_through_chains(&[a, b], 32, 500, 50);

    // The durable event log agrees: one assignment and one completion per task, by the same agent.
    let events = all_docs(a, "events", json!({"project_id": project}));
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
    let tasks = ok(b, "get_all_board_tasks", json!({"project_id": project}));
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
    let status = ok(a, "get_project_status", json!({"project_id": project}));
    assert_eq!(status["status"]["completion_percentage"], 100.0);
    project
}
