//! The board walks the Spin suites run against any server: the stand-in host, a native
//! `marcus serve` and a real `spin up`. A diamond walked over MCP, and the record a race
//! (`common::board::race_through_chains`) leaves in PostgreSQL.

use super::app_requests::serve_with_headers;
use super::test_host::SpinStores;
use crate::common::serves::{Exchange, Serves};
use crate::common::team::PrivateDatabase;
use serde_json::{Value, json};
use std::collections::HashMap;

impl Serves for SpinStores {
    fn exchange(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Exchange {
        serve_with_headers(self, method, path, headers, body)
    }
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
