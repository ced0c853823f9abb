//! The board walks the Spin suites run against any server: the stand-in host, a native
//! `marcus serve` and a real `spin up`. A diamond walked over MCP, and agents racing
//! through chains of tasks over the JSON tools with every claim recorded.

use super::app_requests::serve_with_headers;
use super::test_host::SpinStores;
use crate::common::Marcus;
use crate::common::team::PrivateDatabase;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// One HTTP exchange: (status, headers in lower case, body).
pub type Exchange = (u16, Vec<(String, String)>, String);

/// Something that answers HTTP requests the way Marcus does.
pub trait Serves: Sync {
    /// Sends one request with a JSON body (when not empty).
    fn exchange(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Exchange;
}

impl Serves for SpinStores {
    fn exchange(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Exchange {
        serve_with_headers(self, method, path, headers, body)
    }
}

impl Serves for Marcus {
    fn exchange(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Exchange {
        let mut all = headers.to_vec();
        let body = (!body.is_empty()).then(|| {
            all.push(("content-type", "application/json"));
            body.as_bytes()
        });
        let a = self.request(method, path, &all, body);
        let text = String::from_utf8_lossy(&a.body).into_owned();
        (a.status, a.headers, text)
    }
}

/// A server at a base URL (a real `spin up`).
pub struct AtUrl(pub String);

impl Serves for AtUrl {
    fn exchange(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Exchange {
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(30))
            .build();
        let mut req = agent.request(method, &format!("{}{path}", self.0));
        for (k, v) in headers {
            req = req.set(k, v);
        }
        let result = if body.is_empty() {
            req.call()
        } else {
            req.set("content-type", "application/json")
                .send_string(body)
        };
        let resp = match result {
            Ok(r) | Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{method} {path}: {e} (a request that never answers times out)"),
        };
        let status = resp.status();
        let headers = resp
            .headers_names()
            .into_iter()
            .filter_map(|n| Some((n.to_ascii_lowercase(), resp.header(&n)?.to_string())))
            .collect();
        (status, headers, resp.into_string().unwrap_or_default())
    }
}

/// Calls `/api/tools/{name}`; (status, JSON body).
pub fn tool(server: &dyn Serves, name: &str, args: Value) -> (u16, Value) {
    let (status, _, body) = server.exchange(
        "POST",
        &format!("/api/tools/{name}"),
        &[],
        &args.to_string(),
    );
    let value = serde_json::from_str(&body)
        .unwrap_or_else(|e| panic!("{name} answered {status} with non-JSON ({e}): {body}"));
    (status, value)
}

/// Calls a tool that must answer 200.
pub fn ok(server: &dyn Serves, name: &str, args: Value) -> Value {
    let (status, body) = tool(server, name, args);
    assert_eq!(status, 200, "{name}: {body}");
    body
}

/// An MCP session (streamable HTTP at `/mcp`).
pub struct McpSession<'a> {
    server: &'a dyn Serves,
    id: String,
    next: u64,
}

impl<'a> McpSession<'a> {
    /// `initialize` and `notifications/initialized`, as any MCP client starts.
    pub fn open(server: &'a dyn Serves) -> Self {
        let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "board-walk", "version": "1"}}});
        let (status, headers, body) = server.exchange(
            "POST",
            "/mcp",
            &[("accept", "application/json, text/event-stream")],
            &init.to_string(),
        );
        assert_eq!(status, 200, "initialize: {body}");
        let id = headers
            .iter()
            .find(|(n, _)| n == "mcp-session-id")
            .map(|(_, v)| v.clone())
            .expect("initialize returns Mcp-Session-Id");
        let session = Self {
            server,
            id,
            next: 1,
        };
        let (status, _) =
            session.post(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        assert_eq!(status, 202);
        session
    }

    fn post(&self, message: &Value) -> (u16, String) {
        let (status, _, body) = self.server.exchange(
            "POST",
            "/mcp",
            &[
                ("accept", "application/json, text/event-stream"),
                ("mcp-session-id", &self.id),
                ("mcp-protocol-version", "2025-06-18"),
            ],
            &message.to_string(),
        );
        (status, body)
    }

    /// `tools/call`; the structured result, which must not be an error.
    pub fn call(&mut self, name: &str, arguments: Value) -> Value {
        self.next += 1;
        let (status, body) = self.post(&json!({"jsonrpc": "2.0", "id": self.next,
            "method": "tools/call", "params": {"name": name, "arguments": arguments}}));
        assert_eq!(status, 200, "{name}: {body}");
        let answer: Value = serde_json::from_str(&body).unwrap();
        let result = &answer["result"];
        assert_eq!(result["isError"], false, "{name}: {body}");
        result["structuredContent"].clone()
    }
}

/// Creates a diamond (api → ui, docs → release), registers two agents and walks it over
/// MCP until every task is done, dependencies first; returns the project id.
pub fn diamond_walk(server: &dyn Serves) -> String {
    let mut mcp = McpSession::open(server);
    let created = mcp.call(
        "create_project",
        json!({"project_name": "diamond", "tasks": [
            {"name": "api"},
            {"name": "ui", "dependencies": ["api"]},
            {"name": "docs", "dependencies": ["api"]},
            {"name": "release", "dependencies": ["ui", "docs"]}]}),
    );
    let project = created["project_id"].as_str().unwrap().to_string();
    for agent in ["ada", "bob"] {
        mcp.call(
            "register_agent",
            json!({"agent_id": agent, "name": agent, "role": "dev", "project_id": project}),
        );
    }
    let mut done = Vec::new();
    for _round in 0..10 {
        for agent in ["ada", "bob"] {
            let next = mcp.call("request_next_task", json!({"agent_id": agent}));
            if next["success"] != true {
                continue;
            }
            let task = next["task"]["id"].as_str().unwrap().to_string();
            let finished = mcp.call(
                "report_task_progress",
                json!({"agent_id": agent, "task_id": task, "status": "completed", "progress": 100}),
            );
            assert_eq!(finished["status"], "done", "{finished}");
            done.push(next["task"]["name"].as_str().unwrap().to_string());
        }
        if done.len() == 4 {
            break;
        }
    }
    assert_eq!(done.len(), 4, "the walk finished: {done:?}");
    assert_eq!(done[0], "api", "dependencies first: {done:?}");
    assert_eq!(done[3], "release", "dependencies first: {done:?}");
    let status = mcp.call("get_project_status", json!({"project_id": project}));
    assert_eq!(status["status"]["completion_percentage"], 100.0, "{status}");
    project
}

/// `agents` agents, spread over `servers` in turn, race through `tasks` tasks in chains of
/// eight; asserts no task went to two agents and each was completed by its holder. Returns
/// the project id.
pub fn race(servers: &[&dyn Serves], agents: usize, tasks: usize) -> String {
    let specs: Vec<Value> = (0..tasks)
        .map(|i| {
            let deps = if i >= 8 {
                vec![format!("t{}", i - 8)]
            } else {
                vec![]
            };
            json!({"name": format!("t{i}"), "dependencies": deps})
        })
        .collect();
    let created = ok(
        servers[0],
        "create_project",
        json!({"project_name": "race", "tasks": specs}),
    );
    let project = created["project_id"].as_str().unwrap().to_string();
    let completed = AtomicUsize::new(0);
    let claims: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let deadline = Instant::now() + Duration::from_secs(240);
    std::thread::scope(|s| {
        for n in 0..agents {
            let (server, completed, claims, project) =
                (servers[n % servers.len()], &completed, &claims, &project);
            s.spawn(move || {
                let agent = format!("agent-{n}");
                ok(
                    server,
                    "register_agent",
                    json!({"agent_id": agent, "name": agent, "role": "dev", "project_id": project}),
                );
                while completed.load(Ordering::SeqCst) < tasks {
                    assert!(Instant::now() < deadline, "the race did not finish in time");
                    let next = ok(server, "request_next_task", json!({"agent_id": agent}));
                    if next["success"] != true {
                        std::thread::sleep(Duration::from_millis(30));
                        continue;
                    }
                    assert_eq!(next["already_assigned"], false, "{agent} got a second task");
                    let task = next["task"]["id"].as_str().unwrap().to_string();
                    claims.lock().unwrap().push(task.clone());
                    let done = ok(
                        server,
                        "report_task_progress",
                        json!({"agent_id": agent, "task_id": task, "status": "completed", "progress": 100}),
                    );
                    assert_eq!(done["status"], "done", "{done}");
                    completed.fetch_add(1, Ordering::SeqCst);
                }
            });
        }
    });
    let claims = claims.into_inner().unwrap();
    let distinct: HashSet<&String> = claims.iter().collect();
    assert_eq!(claims.len(), tasks, "each task claimed once");
    assert_eq!(distinct.len(), tasks, "no task went to two agents");
    project
}

/// PostgreSQL's own record of a race: one assignment per task, completed by its holder.
pub fn assert_each_task_assigned_once_in(db: &PrivateDatabase, project: &str, tasks: usize) {
    let events = db.query_text(&format!(
        "SELECT data::text FROM documents WHERE collection = 'events' AND data ->> 'project_id' = '{project}'"
    ));
    let mut assigned: HashMap<String, Vec<String>> = HashMap::new();
    let mut finished: HashMap<String, Vec<String>> = HashMap::new();
    for line in events.lines() {
        let e: Value = serde_json::from_str(line).unwrap();
        let (task, agent) = (
            e["task_id"].as_str().unwrap_or("").to_string(),
            e["agent_id"].as_str().unwrap_or("").to_string(),
        );
        match e["kind"].as_str() {
            Some("task_assigned") => assigned.entry(task).or_default().push(agent),
            Some("task_completed") => finished.entry(task).or_default().push(agent),
            _ => {}
        }
    }
    assert_eq!(assigned.len(), tasks);
    for (task, agents) in &assigned {
        assert_eq!(agents.len(), 1, "{task} assigned {} times", agents.len());
        assert_eq!(finished.get(task), Some(agents), "completed by its holder");
    }
}
