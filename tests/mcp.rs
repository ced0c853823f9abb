//! MCP over streamable HTTP, driven by the official Rust MCP SDK (rmcp) and by raw
//! JSON-RPC for the protocol edges.

mod common;

use common::Marcus;
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::StreamableHttpClientTransport;
use serde_json::{Map, Value, json};
use std::collections::HashMap;

/// Calls a tool and returns its structured content; panics on an error result.
async fn call(
    client: &rmcp::service::RunningService<rmcp::RoleClient, ()>,
    schemas: &HashMap<String, Value>,
    name: &'static str,
    args: Value,
) -> Value {
    let Value::Object(arguments) = args else {
        panic!("arguments must be an object")
    };
    let mut params = CallToolRequestParams::new(name);
    params.arguments = Some(arguments);
    let result = client
        .call_tool(params)
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let structured = result.structured_content.clone().unwrap_or(Value::Null);
    assert_ne!(result.is_error, Some(true), "{name} failed: {structured}");
    // The same JSON is also sent as text content.
    let text = result
        .content
        .first()
        .and_then(|c| c.as_text())
        .map(|t| t.text.clone())
        .expect("text content");
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), structured);
    // The result matches the tool's declared output schema: required fields present, and
    // every declared field that is present has its declared JSON type.
    let schema = &schemas[name];
    for required in schema["required"].as_array().unwrap() {
        assert!(
            structured.get(required.as_str().unwrap()).is_some(),
            "{name}: missing {required}"
        );
    }
    for (field, spec) in schema["properties"].as_object().unwrap() {
        let Some(value) = structured.get(field) else {
            continue;
        };
        let types: Vec<&str> = match &spec["type"] {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().map(|t| t.as_str().unwrap()).collect(),
            _ => continue,
        };
        let actual = match value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_u64() || n.is_i64() => "integer",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        assert!(
            types.contains(&actual) || (actual == "integer" && types.contains(&"number")),
            "{name}.{field} is {actual}, schema says {types:?}"
        );
    }
    structured
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rmcp_client_drives_a_diamond_project_to_completion() {
    let m = Marcus::start(&[]);
    let url = format!("{}/mcp", m.url);
    let client =
        ().serve(StreamableHttpClientTransport::from_uri(url.clone()))
            .await
            .expect("connect");
    let tools = client.list_all_tools().await.expect("tools/list");
    let schemas: HashMap<String, Value> = tools
        .iter()
        .map(|t| {
            let schema =
                serde_json::to_value(t.output_schema.as_ref().expect("output schema")).unwrap();
            (t.name.to_string(), schema)
        })
        .collect();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    for expected in [
        "ping",
        "register_agent",
        "request_next_task",
        "report_task_progress",
        "report_blocker",
        "resolve_blocker",
        "get_task_context",
        "log_decision",
        "log_artifact",
        "create_project",
        "create_tasks",
        "get_project_status",
        "list_projects",
        "select_project",
        "get_agent_status",
        "list_registered_agents",
        "get_all_board_tasks",
        "check_task_dependencies",
        "unassign_task",
        "check_board_health",
        "get_optimal_agent_count",
    ] {
        assert!(names.contains(&expected), "missing tool {expected}");
    }
    assert!(
        tools.iter().all(|t| t.output_schema.is_some()),
        "every tool declares an output schema"
    );

    let created = call(
        &client,
        &schemas,
        "create_project",
        json!({
            "project_name": "diamond",
            "description": "A; B and C after A; D after B and C",
            "tasks": [
                {"name": "A", "estimated_hours": 1, "labels": ["backend"]},
                {"name": "B", "dependencies": ["A"], "estimated_hours": 2},
                {"name": "C", "dependencies": ["A"], "estimated_hours": 2},
                {"name": "D", "dependencies": ["B", "C"], "estimated_hours": 1}
            ]
        }),
    )
    .await;
    let project_id = created["project_id"].as_str().unwrap().to_string();
    let ids: Map<String, Value> = created["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["name"].as_str().unwrap().to_string(), t["id"].clone()))
        .collect();
    assert_eq!(ids.len(), 4);

    for (agent, skills) in [
        ("agent-1", json!(["backend"])),
        ("agent-2", json!(["frontend"])),
    ] {
        let r = call(&client, &schemas, "register_agent", json!({"agent_id": agent, "name": agent, "role": "Developer", "skills": skills, "project_id": project_id})).await;
        assert_eq!(r["success"], true);
    }

    let mut order = Vec::new();
    let mut idle_rounds = 0;
    while order.len() < 4 {
        let mut progressed = false;
        for agent in ["agent-1", "agent-2"] {
            let next = call(
                &client,
                &schemas,
                "request_next_task",
                json!({"agent_id": agent}),
            )
            .await;
            if next["success"] != true {
                let secs = next["retry_after_seconds"]
                    .as_u64()
                    .expect("retry_after_seconds");
                assert!((1..=30).contains(&secs), "{next}");
                assert!(next["retry_reason"].as_str().is_some_and(|r| !r.is_empty()));
                continue;
            }
            let task = &next["task"];
            let task_id = task["id"].as_str().unwrap().to_string();
            let name = task["name"].as_str().unwrap().to_string();
            // Dependencies are done before a task is handed out.
            for dep in task["dependencies"].as_array().unwrap() {
                let dep_name = ids.iter().find(|(_, v)| *v == dep).unwrap().0.clone();
                assert!(
                    order.contains(&dep_name),
                    "{name} handed out before {dep_name}"
                );
            }
            let ctx = call(
                &client,
                &schemas,
                "get_task_context",
                json!({"task_id": task_id}),
            )
            .await;
            if name == "D" {
                let files: Vec<&str> = ctx["context"]["dependency_artifacts"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a["filename"].as_str().unwrap())
                    .collect();
                assert!(
                    files.contains(&"B.md") && files.contains(&"C.md"),
                    "D's context: {files:?}"
                );
                let refs: Vec<(&str, bool)> = ctx["context"]["dependencies"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|d| {
                        (
                            d["name"].as_str().unwrap(),
                            d["reference_only"].as_bool().unwrap(),
                        )
                    })
                    .collect();
                assert!(
                    refs.contains(&("A", true)),
                    "A is a transitive dependency of D: {refs:?}"
                );
            }
            call(&client, &schemas, "log_decision", json!({"agent_id": agent, "task_id": task_id, "decision": format!("{name}: keep it simple")})).await;
            call(&client, &schemas, "log_artifact", json!({"task_id": task_id, "filename": format!("{name}.md"), "content": format!("# {name}\n"), "artifact_type": "documentation", "agent_id": agent})).await;
            let p = call(&client, &schemas, "report_task_progress", json!({"agent_id": agent, "task_id": task_id, "status": "in_progress", "progress": 50, "message": "halfway"})).await;
            assert_eq!(p["success"], true);
            let done = call(&client, &schemas, "report_task_progress", json!({"agent_id": agent, "task_id": task_id, "status": "completed", "progress": 100, "message": "done"})).await;
            assert_eq!(done["status"], "done");
            order.push(name);
            progressed = true;
        }
        if !progressed {
            idle_rounds += 1;
            assert!(idle_rounds < 5, "no agent could progress: {order:?}");
        }
    }
    assert_eq!(order[0], "A");
    assert_eq!(order[3], "D");

    let status = call(
        &client,
        &schemas,
        "get_project_status",
        json!({"project_id": project_id}),
    )
    .await;
    assert_eq!(status["status"]["completion_percentage"], 100.0);
    assert_eq!(status["status"]["done"], 4);
    let agents = call(&client, &schemas, "list_registered_agents", json!({})).await;
    let completed: u64 = agents["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["completed_tasks_count"].as_u64().unwrap())
        .sum();
    assert_eq!(completed, 4);
    let none = call(
        &client,
        &schemas,
        "request_next_task",
        json!({"agent_id": "agent-1"}),
    )
    .await;
    assert_eq!(none["success"], false);
    assert_eq!(none["retry_reason"], "all tasks are complete");
    client.cancel().await.ok();
}

#[test]
fn protocol_edges() {
    let m = Marcus::start(&[]);
    let init = m.request(
        "POST",
        "/mcp",
        &[("content-type", "application/json"), ("accept", "application/json, text/event-stream")],
        Some(json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-03-26", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}).to_string().as_bytes()),
    );
    assert_eq!(init.status, 200);
    let v = init.json();
    assert_eq!(v["result"]["protocolVersion"], "2025-03-26");
    assert!(v["result"]["capabilities"]["tools"].is_object());

    // SSE when the client accepts only text/event-stream.
    let sse = m.request(
        "POST",
        "/mcp",
        &[("accept", "text/event-stream")],
        Some(br#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#),
    );
    assert_eq!(sse.status, 200);
    assert!(sse.content_type.starts_with("text/event-stream"));
    let text = String::from_utf8(sse.body.clone()).unwrap();
    assert!(text.starts_with("event: message\ndata: "), "{text}");
    let data: Value =
        serde_json::from_str(text.trim_start_matches("event: message\ndata: ").trim()).unwrap();
    assert_eq!(data["result"], json!({}));

    let note = m.request(
        "POST",
        "/mcp",
        &[],
        Some(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#),
    );
    assert_eq!(note.status, 202);
    assert_eq!(m.get("/mcp").status, 405);

    let parse = m.request(
        "POST",
        "/mcp",
        &[("content-type", "application/json")],
        Some(b"{oops"),
    );
    assert_eq!(parse.json()["error"]["code"], -32700);
    let unknown = m.post_json(
        "/mcp",
        &json!({"jsonrpc": "2.0", "id": 3, "method": "nope"}),
    );
    assert_eq!(unknown.json()["error"]["code"], -32601);
    let bad_tool = m.post_json("/mcp", &json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "nope", "arguments": {}}}));
    assert_eq!(bad_tool.json()["error"]["code"], -32602);
    let bad_args = m.post_json("/mcp", &json!({"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {"name": "register_agent", "arguments": {"agent_id": 7}}})).json();
    assert_eq!(bad_args["result"]["isError"], true);
    assert!(
        bad_args["result"]["structuredContent"]["error"]
            .as_str()
            .unwrap()
            .contains("agent_id"),
        "{bad_args}"
    );
    let unknown_session = m.request(
        "POST",
        "/mcp",
        &[("mcp-session-id", "mcp-gone")],
        Some(br#"{"jsonrpc":"2.0","id":6,"method":"ping"}"#),
    );
    assert_eq!(unknown_session.status, 404);
    let bad_version = m.request(
        "POST",
        "/mcp",
        &[("mcp-protocol-version", "1999-01-01")],
        Some(br#"{"jsonrpc":"2.0","id":7,"method":"ping"}"#),
    );
    assert_eq!(bad_version.status, 400);
}
