//! MCP over streamable HTTP, driven by the official Rust MCP SDK (rmcp) and by raw
//! JSON-RPC for the protocol edges.

mod common;

use common::Marcus;
use common::board::ok;
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

/// POSTs one raw JSON-RPC body to `/mcp`, with the session header when given.
fn rpc(m: &Marcus, session: Option<&str>, body: &str) -> common::Answer {
    let mut headers = vec![
        ("content-type", "application/json"),
        ("accept", "application/json, text/event-stream"),
    ];
    if let Some(sid) = session {
        headers.push(("mcp-session-id", sid));
    }
    m.request("POST", "/mcp", &headers, Some(body.as_bytes()))
}

/// Initializes a session on `protocol` and returns its id.
fn session(m: &Marcus, protocol: &str) -> String {
    let init = rpc(
        m,
        None,
        &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": protocol, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}).to_string(),
    );
    assert_eq!(init.status, 200, "{}", init.text_prefix());
    assert_eq!(init.json()["result"]["protocolVersion"], protocol);
    init.header("mcp-session-id")
        .expect("initialize returns Mcp-Session-Id")
}

/// The body as text (for ids that must be compared byte for byte).
fn text(a: &common::Answer) -> String {
    String::from_utf8(a.body.clone()).unwrap()
}

/// A session still works: ping and a tool call answer.
fn still_works(m: &Marcus, sid: &str) {
    let ping = rpc(
        m,
        Some(sid),
        r#"{"jsonrpc":"2.0","id":"after","method":"ping"}"#,
    );
    assert_eq!(ping.status, 200, "{}", ping.text_prefix());
    assert_eq!(
        ping.json(),
        json!({"jsonrpc": "2.0", "id": "after", "result": {}})
    );
    let listed = rpc(
        m,
        Some(sid),
        r#"{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"list_projects","arguments":{}}}"#,
    );
    assert_eq!(
        listed.json()["result"]["isError"],
        false,
        "{}",
        listed.text_prefix()
    );
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
    // Agents are told how long they hold a task and how to keep it.
    let instructions = v["result"]["instructions"].as_str().unwrap();
    assert!(
        instructions.contains("lease of 180 s")
            && instructions.contains("renews it to 240 s")
            && instructions.contains("wait_seconds")
            && instructions.contains("takeover: true"),
        "{instructions}"
    );
    let sid = init.header("mcp-session-id").expect("a session id");

    // SSE when the client accepts only text/event-stream.
    let sse = m.request(
        "POST",
        "/mcp",
        &[
            ("content-type", "application/json"),
            ("accept", "text/event-stream"),
            ("mcp-session-id", &sid),
        ],
        Some(br#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#),
    );
    assert_eq!(sse.status, 200);
    assert!(sse.content_type.starts_with("text/event-stream"));
    let text = String::from_utf8(sse.body.clone()).unwrap();
    assert!(text.starts_with("event: message\ndata: "), "{text}");
    let data: Value =
        serde_json::from_str(text.trim_start_matches("event: message\ndata: ").trim()).unwrap();
    assert_eq!(data["result"], json!({}));

    let note = rpc(
        &m,
        Some(&sid),
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
    );
    assert_eq!(note.status, 202);
    assert!(note.body.is_empty(), "a notification gets no body");
    // GET opens a session's notification stream: without a session it is refused.
    assert_eq!(m.get("/mcp").status, 400);

    let parse = m.request(
        "POST",
        "/mcp",
        &[("content-type", "application/json")],
        Some(b"{oops"),
    );
    assert_eq!(parse.json()["error"]["code"], -32700);
    let unknown = rpc(
        &m,
        Some(&sid),
        r#"{"jsonrpc": "2.0", "id": 3, "method": "nope"}"#,
    );
    assert_eq!(unknown.json()["error"]["code"], -32601);
    let bad_tool = rpc(&m, Some(&sid), &json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "nope", "arguments": {}}}).to_string());
    assert_eq!(bad_tool.json()["error"]["code"], -32602);
    let bad_args = rpc(&m, Some(&sid), &json!({"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {"name": "register_agent", "arguments": {"agent_id": 7}}}).to_string()).json();
    assert_eq!(bad_args["result"]["isError"], true);
    assert!(
        bad_args["result"]["structuredContent"]["error"]
            .as_str()
            .unwrap()
            .contains("agent_id"),
        "{bad_args}"
    );
    let unknown_session = rpc(
        &m,
        Some("mcp-gone"),
        r#"{"jsonrpc":"2.0","id":6,"method":"ping"}"#,
    );
    assert_eq!(unknown_session.status, 404);
    let bad_version = m.request(
        "POST",
        "/mcp",
        &[
            ("content-type", "application/json"),
            ("mcp-protocol-version", "1999-01-01"),
            ("mcp-session-id", &sid),
        ],
        Some(br#"{"jsonrpc":"2.0","id":7,"method":"ping"}"#),
    );
    assert_eq!(bad_version.status, 400);
    still_works(&m, &sid);
}

#[test]
fn a_request_without_its_session_is_400_and_an_ended_session_404() {
    let m = Marcus::start(&[]);
    let sid = session(&m, "2025-06-18");
    let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    let missing = rpc(&m, None, ping);
    assert_eq!(
        missing.error(),
        (400, "bad_request".to_string()),
        "{}",
        missing.text_prefix()
    );
    let call = r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list_projects","arguments":{}}}"#;
    assert_eq!(rpc(&m, None, call).status, 400);
    let note = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
    assert_eq!(rpc(&m, None, note).status, 400);
    assert_eq!(
        rpc(&m, Some("mcp-never-issued"), ping).error(),
        (404, "not_found".to_string())
    );
    still_works(&m, &sid);

    let ended = session(&m, "2025-06-18");
    let deleted = m.request("DELETE", "/mcp", &[("mcp-session-id", &ended)], None);
    assert_eq!(deleted.status, 200);
    assert_eq!(rpc(&m, Some(&ended), ping).status, 404);
    still_works(&m, &sid);
}

#[test]
fn ids_are_echoed_exactly_as_sent() {
    let m = Marcus::start(&[]);
    let sid = session(&m, "2025-06-18");
    for id in [
        "18446744073709551616",
        "-18446744073709551617",
        "123456789012345678901234567890",
        "-0",
        "1e400",
        "2.0",
        "0",
        r#""text id""#,
        r#""""#,
        r#""\u00e9 \"quoted\"""#,
    ] {
        let answer = rpc(
            &m,
            Some(&sid),
            &format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"ping"}}"#),
        );
        assert_eq!(answer.status, 200, "{id}: {}", answer.text_prefix());
        let body = text(&answer);
        assert!(
            body.contains(&format!(r#""id":{id},"#)),
            "id {id} came back as {body}"
        );
        assert!(body.contains(r#""result":{}"#), "{body}");
    }
    // Errors echo the id too.
    let unknown = rpc(
        &m,
        Some(&sid),
        r#"{"jsonrpc":"2.0","id":18446744073709551616,"method":"nope"}"#,
    );
    assert!(
        text(&unknown).contains(r#""id":18446744073709551616,"#),
        "{}",
        text(&unknown)
    );
    still_works(&m, &sid);
}

#[test]
fn ids_mcp_forbids_are_invalid_requests_with_a_null_id() {
    let m = Marcus::start(&[]);
    let sid = session(&m, "2025-06-18");
    for id in [
        "{}",
        r#"{"n":1}"#,
        "[1]",
        "true",
        "false",
        "null",
        "1.5",
        "-2.25e1",
    ] {
        let answer = rpc(
            &m,
            Some(&sid),
            &format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"ping"}}"#),
        );
        assert_eq!(answer.status, 400, "{id}: {}", answer.text_prefix());
        let v = answer.json();
        assert_eq!(v["error"]["code"], -32600, "{id}: {v}");
        assert_eq!(v["id"], Value::Null, "{id}: {v}");
        assert_eq!(v["jsonrpc"], "2.0");
    }
    still_works(&m, &sid);
}

#[test]
fn messages_must_be_well_formed_json_rpc() {
    let m = Marcus::start(&[]);
    let sid = session(&m, "2025-06-18");
    let invalid = |body: &str| {
        let answer = rpc(&m, Some(&sid), body);
        assert_eq!(answer.status, 400, "{body}: {}", answer.text_prefix());
        answer.json()
    };
    for body in [
        r#"{"id":1,"method":"ping"}"#,
        r#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":7}"#,
        r#"{"jsonrpc":"2.0","id":1}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"ping","params":"x"}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"ping","params":null}"#,
        r#"{"jsonrpc":"2.0","id":1,"id":2,"method":"ping"}"#,
        r#"{"jsonrpc":"2.0","method":"notifications/initialized","params":[1]}"#,
        r#""just a string""#,
        "42",
    ] {
        assert_eq!(invalid(body)["error"]["code"], -32600, "{body}");
    }
    // Positional params are valid JSON-RPC but not MCP: Invalid params, with the id.
    let positional = rpc(
        &m,
        Some(&sid),
        r#"{"jsonrpc":"2.0","id":"p","method":"tools/list","params":[1]}"#,
    );
    assert_eq!(positional.status, 200);
    assert_eq!(positional.json()["error"]["code"], -32602);
    assert_eq!(positional.json()["id"], "p");
    // Absent params are fine; an empty object too.
    for body in [
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}"#,
    ] {
        assert!(
            rpc(&m, Some(&sid), body).json()["result"]["tools"].is_array(),
            "{body}"
        );
    }
    // Notifications and client responses are accepted with 202 and no body.
    for body in [
        r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}"#,
        r#"{"jsonrpc":"2.0","id":"s1","result":{}}"#,
        r#"{"jsonrpc":"2.0","id":"s2","error":{"code":-1,"message":"no"}}"#,
    ] {
        let accepted = rpc(&m, Some(&sid), body);
        assert_eq!((accepted.status, accepted.body.len()), (202, 0), "{body}");
    }
    still_works(&m, &sid);
}

#[test]
fn batches_follow_the_negotiated_protocol() {
    let m = Marcus::start(&[]);
    let batch = r#"[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/initialized"},{"jsonrpc":"2.0","id":{},"method":"ping"},{"jsonrpc":"2.0","id":18446744073709551616,"method":"tools/list"}]"#;

    // 2025-06-18 removed JSON-RPC batching.
    let current = session(&m, "2025-06-18");
    let refused = rpc(&m, Some(&current), batch);
    assert_eq!(refused.status, 400, "{}", refused.text_prefix());
    assert_eq!(refused.json()["error"]["code"], -32600);
    assert_eq!(refused.json()["id"], Value::Null);
    still_works(&m, &current);

    // 2025-03-26 allowed it: one response per request, none for the notification.
    let older = session(&m, "2025-03-26");
    let answered = rpc(&m, Some(&older), batch);
    assert_eq!(answered.status, 200, "{}", answered.text_prefix());
    let body = text(&answered);
    let responses: Vec<Value> = serde_json::from_str(&body).unwrap();
    assert_eq!(responses.len(), 3, "{body}");
    assert_eq!(responses[0]["result"], json!({}));
    assert_eq!(responses[1]["error"]["code"], -32600);
    assert_eq!(responses[1]["id"], Value::Null);
    assert!(body.contains(r#""id":18446744073709551616,"#), "{body}");
    assert_eq!(rpc(&m, Some(&older), "[]").status, 400);
    let init_in_batch = rpc(
        &m,
        Some(&older),
        r#"[{"jsonrpc":"2.0","id":5,"method":"initialize","params":{}}]"#,
    );
    assert_eq!(init_in_batch.json()[0]["error"]["code"], -32600);
    let only_notes = rpc(
        &m,
        Some(&older),
        r#"[{"jsonrpc":"2.0","method":"notifications/initialized"}]"#,
    );
    assert_eq!((only_notes.status, only_notes.body.len()), (202, 0));
    // A batch needs a session like any other message.
    assert_eq!(rpc(&m, None, batch).status, 400);
    still_works(&m, &older);
}

/// Calls a tool over raw JSON-RPC on `sid` and returns the `tools/call` result.
fn raw_call(m: &Marcus, sid: &str, name: &str, arguments: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                      "params": {"name": name, "arguments": arguments}});
    let a = rpc(m, Some(sid), &body.to_string());
    assert_eq!(a.status, 200, "{}", a.text_prefix());
    a.json()["result"].clone()
}

#[test]
fn every_tool_says_what_it_does_to_the_board() {
    let m = Marcus::start(&[]);
    let sid = session(&m, "2025-06-18");
    let listed = rpc(
        &m,
        Some(&sid),
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
    )
    .json();
    let tools = listed["result"]["tools"].as_array().unwrap();
    assert_eq!(tools.len(), 21);
    // (read-only, destructive, idempotent) per tool.
    let expected: HashMap<&str, (bool, bool, bool)> = [
        ("ping", (true, false, true)),
        ("get_task_context", (true, false, true)),
        ("get_project_status", (true, false, true)),
        ("list_projects", (true, false, true)),
        ("get_agent_status", (true, false, true)),
        ("list_registered_agents", (true, false, true)),
        ("get_all_board_tasks", (true, false, true)),
        ("check_task_dependencies", (true, false, true)),
        ("check_board_health", (true, false, true)),
        ("get_optimal_agent_count", (true, false, true)),
        ("register_agent", (false, true, true)),
        ("select_project", (false, true, true)),
        ("unassign_task", (false, true, false)),
        ("request_next_task", (false, false, true)),
        ("report_task_progress", (false, false, false)),
        ("report_blocker", (false, false, false)),
        ("resolve_blocker", (false, false, false)),
        ("log_decision", (false, false, false)),
        ("log_artifact", (false, false, false)),
        ("create_project", (false, false, false)),
        ("create_tasks", (false, false, false)),
    ]
    .into_iter()
    .collect();
    for tool in tools {
        let name = tool["name"].as_str().unwrap();
        let a = &tool["annotations"];
        let hints = (
            a["readOnlyHint"].as_bool().expect("readOnlyHint"),
            a["destructiveHint"].as_bool().expect("destructiveHint"),
            a["idempotentHint"].as_bool().expect("idempotentHint"),
        );
        assert_eq!(Some(&hints), expected.get(name), "{name}: {a}");
        assert_eq!(a["openWorldHint"], false, "{name}");
        // Schemas are objects derived from the tool's types, with no references to resolve.
        for key in ["inputSchema", "outputSchema"] {
            let schema = &tool[key];
            assert_eq!(schema["type"], "object", "{name} {key}");
            assert!(!schema.to_string().contains("$ref"), "{name} {key}");
        }
        assert_eq!(
            tool["outputSchema"]["required"],
            json!(["success"]),
            "{name}"
        );
    }
}

#[test]
fn refused_arguments_are_named_and_fit_the_output_schema() {
    let m = Marcus::start(&[]);
    let sid = session(&m, "2025-06-18");
    for (name, arguments, message) in [
        (
            "register_agent",
            json!({"name": "n"}),
            "agent_id is required",
        ),
        (
            "register_agent",
            json!({"agent_id": null, "name": "n"}),
            "agent_id is required",
        ),
        (
            "register_agent",
            json!({"agent_id": 5, "name": "n"}),
            "agent_id must be a string",
        ),
        (
            "register_agent",
            json!({"agent_id": " ", "name": "n"}),
            "agent_id must not be empty",
        ),
        (
            "register_agent",
            json!({"agent_id": "a", "name": "n", "skills": ["x", 1]}),
            "skills[1] must be a string",
        ),
        (
            "register_agent",
            json!({"agent_id": "a", "name": "n", "skills": 3}),
            "skills must be a list of strings",
        ),
        (
            "create_project",
            json!({"project_name": "p", "options": {"lease_seconds": 0}}),
            "options.lease_seconds must be a positive integer",
        ),
        (
            "create_project",
            json!({"project_name": "p", "options": 1}),
            "options must be an object",
        ),
        (
            "create_project",
            json!({"project_name": "p", "tasks": {}}),
            "tasks must be a list of task objects",
        ),
        (
            "create_project",
            json!({"project_name": "p", "tasks": [{"name": "a", "nope": 1}]}),
            "tasks[0]: unknown field `nope`",
        ),
        (
            "report_task_progress",
            json!({"agent_id": "a", "task_id": "t", "status": "done"}),
            "status must be in_progress, completed or blocked, got \"done\"",
        ),
        (
            "report_task_progress",
            json!({"agent_id": "a", "task_id": "t", "status": "in_progress", "progress": 101}),
            "progress must be a number from 0 to 100",
        ),
        (
            "report_task_progress",
            json!({"agent_id": "a", "task_id": "t", "status": "in_progress", "lease_token": -1}),
            "lease_token must be a non-negative integer",
        ),
        (
            "report_blocker",
            json!({"agent_id": "a", "task_id": "t", "blocker_description": "d", "severity": "huge"}),
            "severity must be low, medium or high, got \"huge\"",
        ),
        (
            "get_all_board_tasks",
            json!({"status": "later"}),
            "status must be one of todo, in_progress, blocked, done, got \"later\"",
        ),
        (
            "resolve_blocker",
            json!({"resolution": "fixed"}),
            "blocker_id or task_id is required",
        ),
    ] {
        let result = raw_call(&m, &sid, name, arguments.clone());
        assert_eq!(result["isError"], true, "{name} {arguments}: {result}");
        let structured = &result["structuredContent"];
        assert_eq!(structured["success"], false, "{name} {arguments}");
        assert_eq!(structured["error_code"], "invalid", "{name} {arguments}");
        let error = structured["error"].as_str().unwrap_or("");
        assert!(error.starts_with(message), "{name} {arguments}: {error}");
        assert_eq!(structured.as_object().unwrap().len(), 3, "{structured}");
    }
}

#[test]
fn an_agent_id_belongs_to_one_session_until_taken_over() {
    let m = Marcus::start(&[]);
    let first = session(&m, "2025-06-18");
    let second = session(&m, "2025-06-18");
    ok(
        &m,
        "create_project",
        json!({"project_name": "ids", "tasks": [{"name": "t"}]}),
    );
    let registered = raw_call(
        &m,
        &first,
        "register_agent",
        json!({"agent_id": "dev", "name": "Dev"}),
    );
    assert_eq!(registered["isError"], false, "{registered}");
    let held = raw_call(&m, &first, "request_next_task", json!({"agent_id": "dev"}));
    assert_eq!(held["structuredContent"]["success"], true, "{held}");

    let refused = raw_call(
        &m,
        &second,
        "register_agent",
        json!({"agent_id": "dev", "name": "Dev 2"}),
    );
    assert_eq!(refused["isError"], true);
    assert_eq!(
        refused["structuredContent"]["error_code"], "agent_id_in_use",
        "{refused}"
    );
    assert!(
        refused["structuredContent"]["error"]
            .as_str()
            .unwrap()
            .contains("takeover: true")
    );

    let taken = raw_call(
        &m,
        &second,
        "register_agent",
        json!({"agent_id": "dev", "name": "Dev 2", "takeover": true}),
    );
    assert_eq!(taken["isError"], false, "{taken}");
    // The new session carries on with the agent's task; the old one may not act as it.
    let again = raw_call(&m, &second, "request_next_task", json!({"agent_id": "dev"}));
    assert_eq!(
        again["structuredContent"]["already_assigned"], true,
        "{again}"
    );
    let stale = raw_call(&m, &first, "request_next_task", json!({"agent_id": "dev"}));
    assert_eq!(
        stale["structuredContent"]["error_code"], "session_replaced",
        "{stale}"
    );
}

#[test]
fn prompts_carry_the_agent_protocol_and_the_planning_request() {
    let m = Marcus::start(&[]);
    let sid = session(&m, "2025-06-18");
    let list = rpc(
        &m,
        Some(&sid),
        &json!({"jsonrpc": "2.0", "id": 2, "method": "prompts/list"}).to_string(),
    )
    .json();
    let names: Vec<&str> = list["result"]["prompts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["marcus_agent", "plan_project"]);
    let agent = rpc(
        &m,
        Some(&sid),
        &json!({"jsonrpc": "2.0", "id": 3, "method": "prompts/get",
                "params": {"name": "marcus_agent", "arguments": {"agent_id": "dev-7"}}})
        .to_string(),
    )
    .json();
    let text = agent["result"]["messages"][0]["content"]["text"]
        .as_str()
        .unwrap();
    assert!(
        text.contains("dev-7") && text.contains("request_next_task"),
        "{text}"
    );
    let missing = rpc(
        &m,
        Some(&sid),
        &json!({"jsonrpc": "2.0", "id": 4, "method": "prompts/get",
                "params": {"name": "plan_project"}})
        .to_string(),
    )
    .json();
    assert_eq!(missing["error"]["code"], -32602, "{missing}");

    // A project made from a description alone says how to plan its tasks.
    let empty = raw_call(
        &m,
        &sid,
        "create_project",
        json!({"project_name": "idea", "description": "A chess engine"}),
    );
    assert!(
        empty["structuredContent"]["next_step"]
            .as_str()
            .unwrap()
            .contains("plan_project"),
        "{empty}"
    );
}

#[test]
fn a_session_hears_of_ready_tasks_expiring_leases_and_resolved_blockers() {
    use common::sse::SseStream;
    let m = Marcus::start(&[]);
    let p = ok(
        &m,
        "create_project",
        json!({"project_name": "notes", "options": {"lease_seconds": 66}, "tasks": [
            {"name": "first"}, {"name": "second", "dependencies": ["first"]}
        ]}),
    );
    let project = p["project_id"].as_str().unwrap().to_string();
    ok(
        &m,
        "register_agent",
        json!({"agent_id": "a", "name": "a", "project_id": project}),
    );
    let first = ok(&m, "request_next_task", json!({"agent_id": "a"}));
    let first = first["task"]["id"].as_str().unwrap().to_string();
    let sid = session(&m, "2025-06-18");
    raw_call(
        &m,
        &sid,
        "register_agent",
        json!({"agent_id": "b", "name": "b", "project_id": project}),
    );

    let mut stream = SseStream::open_with(&m.url, "/mcp", &[("Mcp-Session-Id", &sid)]);
    assert_eq!(stream.status, 200);
    assert!(stream.content_type.starts_with("text/event-stream"));
    let next = |stream: &mut SseStream, method: &str| -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        while std::time::Instant::now() < deadline {
            if let Some(e) = stream.next_event(deadline - std::time::Instant::now()) {
                let v: Value = serde_json::from_str(&e.data).unwrap();
                assert_eq!(v["jsonrpc"], "2.0");
                if v["method"] == method {
                    return v["params"].clone();
                }
            }
        }
        panic!("no {method} notification");
    };

    ok(
        &m,
        "report_task_progress",
        json!({"agent_id": "a", "task_id": first, "status": "completed"}),
    );
    let available = next(&mut stream, "notifications/marcus/task_available");
    assert_eq!(available["ready_tasks"], 1);
    assert_eq!(available["because"], "task_completed");

    let claimed = raw_call(&m, &sid, "request_next_task", json!({"agent_id": "b"}));
    let second = claimed["structuredContent"]["task"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let expiring = next(&mut stream, "notifications/marcus/lease_expiring");
    assert_eq!(expiring["task_id"], second.as_str());
    assert!(expiring["seconds_left"].as_u64().unwrap() <= 60);

    raw_call(
        &m,
        &sid,
        "report_blocker",
        json!({"agent_id": "b", "task_id": second, "blocker_description": "needs a key"}),
    );
    ok(
        &m,
        "resolve_blocker",
        json!({"task_id": second, "resolution": "key issued"}),
    );
    let resolved = next(&mut stream, "notifications/marcus/blocker_resolved");
    assert_eq!(resolved["task_id"], second.as_str());
    assert_eq!(resolved["resolution"], "key issued");

    // Another session's stream without the header, or with an unknown one, is refused.
    assert_eq!(
        m.request("GET", "/mcp", &[("accept", "text/event-stream")], None)
            .status,
        400
    );
    assert_eq!(
        m.request(
            "GET",
            "/mcp",
            &[
                ("accept", "text/event-stream"),
                ("mcp-session-id", "mcp-nope")
            ],
            None
        )
        .status,
        404
    );
}
