//! Upstream compatibility: every field upstream Marcus returns, as listed in
//! `tests/fixtures/upstream-tools.md`, is in each tool's `structuredContent` at the listed
//! place with the JSON type its name implies. The suite reads that table, drives the real
//! binary over MCP (rmcp) through a scenario that makes every listed case happen, and fails
//! on a missing or mistyped field and on a table row it never called.

mod common;

use common::Marcus;
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::StreamableHttpClientTransport;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;

type Client = rmcp::service::RunningService<rmcp::RoleClient, ()>;

const TABLE: &str = include_str!("fixtures/upstream-tools.md");

/// One expected field: its name, whether upstream sends it only sometimes, the values it
/// may take (when the table names them), whether it is a list, and its own fields.
#[derive(Debug, Clone, Default)]
struct Field {
    name: String,
    optional: bool,
    values: Vec<Value>,
    list: bool,
    fields: Vec<Field>,
}

/// One row: the tool, its case (for tools listed once per case) and the fields expected at
/// each place (`""` is the result itself; `task` its `task` object; `projects[]` each item).
#[derive(Debug)]
struct Row {
    tool: String,
    case: Option<String>,
    places: Vec<(String, Vec<Field>)>,
}

/// Splits at `sep` outside brackets, parentheses and backticks.
fn split_top(s: &str, sep: char) -> Vec<String> {
    let (mut out, mut cur, mut depth, mut tick) = (Vec::new(), String::new(), 0i32, false);
    for c in s.chars() {
        match c {
            '`' => tick = !tick,
            '(' | '[' | '{' if !tick => depth += 1,
            ')' | ']' | '}' if !tick => depth -= 1,
            _ => {}
        }
        if c == sep && depth == 0 && !tick {
            out.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    out.push(cur);
    out.into_iter()
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

/// The text inside the bracket that opens at byte `open` of `s`.
fn inside(s: &str, open: usize) -> &str {
    let mut depth = 0;
    for (i, c) in s.char_indices().skip_while(|(i, _)| *i < open) {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => {
                depth -= 1;
                if depth == 0 {
                    return &s[open + 1..i];
                }
            }
            _ => {}
        }
    }
    panic!("unclosed bracket in {s:?}")
}

/// The JSON values quoted in backticks in `s`.
fn quoted_values(s: &str) -> Vec<Value> {
    s.split('`')
        .skip(1)
        .step_by(2)
        .map(|v| serde_json::from_str(v).unwrap_or_else(|e| panic!("{v:?} in the table: {e}")))
        .collect()
}

/// One field of a list: `name`, `name?`, ``name (`value`)``, `name (list)`,
/// `name {a, b}`, `name [{a, b}]`.
fn parse_field(item: &str) -> Field {
    let end = item
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(item.len());
    let mut field = Field {
        name: item[..end].to_string(),
        ..Field::default()
    };
    assert!(!field.name.is_empty(), "no field name in {item:?}");
    let mut rest = item[end..].trim_start();
    if let Some(r) = rest.strip_prefix('?') {
        field.optional = true;
        rest = r.trim_start();
    }
    if rest.starts_with('(') {
        let note = inside(rest, 0);
        if note.trim() == "list" {
            field.list = true;
        } else {
            field.values = quoted_values(note);
        }
        rest = rest[note.len() + 2..].trim_start();
    }
    if rest.starts_with("[{") {
        field.list = true;
        field.fields = parse_list(inside(rest, 1));
    } else if rest.starts_with('{') {
        field.fields = parse_list(inside(rest, 0));
    } else {
        assert!(rest.is_empty(), "cannot read {item:?}");
    }
    field
}

fn parse_list(s: &str) -> Vec<Field> {
    split_top(s, ',').iter().map(|i| parse_field(i)).collect()
}

/// The table's rows.
fn table() -> Vec<Row> {
    let mut rows = Vec::new();
    for line in TABLE.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
        assert_eq!(cells.len(), 3, "a row has three cells: {line}");
        let tool = cells[0].split('`').nth(1).unwrap().to_string();
        let case = cells[0].find('(').map(|i| inside(cells[0], i).to_string());
        let mut places = Vec::new();
        let (top, nested) = (cells[1], cells[2]);
        if let Some(upstream) = top.strip_prefix("upstream:") {
            // Upstream refuses; Marcus answers the held task again, marked as such, with
            // upstream's own `current_task` beside it (the nested cell says so).
            let mut fields: Vec<Field> = split_top(upstream, ',')
                .iter()
                .filter(|i| !i.starts_with("success") && !i.starts_with("error"))
                .map(|i| parse_field(i))
                .collect();
            for named in nested.split('`').skip(1).step_by(2) {
                if let Some((name, value)) = named.split_once(": ") {
                    fields.push(Field {
                        name: name.to_string(),
                        values: vec![serde_json::from_str(value).unwrap()],
                        ..Field::default()
                    });
                }
            }
            places.push((String::new(), fields));
            rows.push(Row { tool, case, places });
            continue;
        }
        if !top.starts_with('(') {
            places.push((String::new(), parse_list(top)));
        }
        for segment in split_top(nested, ';') {
            let (head, list) = segment
                .split_once(':')
                .unwrap_or_else(|| panic!("no place named in {segment:?}"));
            let place = match head.trim().strip_prefix("each ") {
                // Upstream's bare list of projects is Marcus's `projects`; the others are
                // lists at the top level of the result.
                Some(item) => format!("{item}s[]"),
                None => head.trim().to_string(),
            };
            places.push((place, parse_list(list)));
        }
        rows.push(Row { tool, case, places });
    }
    assert!(rows.len() >= 21, "the table was read: {} rows", rows.len());
    rows
}

/// The JSON types a field's name implies; `None` for fields whose type the table leaves
/// open (they are checked for presence).
fn implied_types(name: &str) -> Option<&'static [&'static str]> {
    const NUMBER: &[&str] = &["number"];
    const ARRAY: &[&str] = &["array"];
    const OBJECT: &[&str] = &["object"];
    const BOOL: &[&str] = &["boolean"];
    const STRING: &[&str] = &["string"];
    Some(match name {
        "success"
        | "already_assigned"
        | "is_active"
        | "has_circular_dependency"
        | "is_subtask"
        | "is_bottleneck"
        | "is_blocked" => BOOL,
        "total_tasks"
        | "completed"
        | "in_progress"
        | "blocked"
        | "completion_percentage"
        | "total"
        | "active"
        | "available"
        | "count"
        | "tasks_created"
        | "task_count"
        | "total_completed"
        | "performance_score"
        | "retry_after_seconds"
        | "health_score"
        | "blocking_count"
        | "dependency_depth"
        | "optimal_agents"
        | "critical_path_hours"
        | "max_parallelism"
        | "estimated_completion_hours"
        | "single_agent_hours"
        | "efficiency_gain_percent" => NUMBER,
        "current_tasks"
        | "dependent_tasks"
        | "task_ids"
        | "tags"
        | "skills"
        | "labels"
        | "completion_criteria"
        | "dependency_artifacts"
        | "agents"
        | "tasks"
        | "issues"
        | "recommendations"
        | "depends_on"
        | "depended_by"
        | "recommended_completion_order"
        | "artifacts"
        | "decisions"
        | "related_patterns"
        | "architectural_decisions"
        | "transitive_context" => ARRAY,
        "task"
        | "project"
        | "workers"
        | "agent"
        | "context"
        | "data"
        | "analysis"
        | "metrics"
        | "project_contract"
        | "current_task"
        | "current_assignment"
        | "previous_implementations"
        | "recovery_info" => OBJECT,
        "cycle_path" => &["array", "null"],
        "implementation_context" => &["object", "null"],
        "last_used" => &["number", "null"],
        "id" | "name" | "message" | "agent_id" | "project_id" | "status" | "provider"
        | "description" | "instructions" | "filename" | "location" | "artifact_type"
        | "decision_id" | "echo" | "action" | "type" | "severity" | "retry_reason"
        | "project_name" | "task_id" | "task_name" | "role" | "expected_interface"
        | "dependency_type" | "suggestions" | "priority" | "error" => STRING,
        // Upstream sends ISO text, Marcus milliseconds since the epoch: the table leaves
        // the type open, and Marcus keeps its own.
        "timestamp" | "created_at" => return None,
        _ => panic!("the table lists {name}: say in implied_types which JSON type it has"),
    })
}

fn type_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Checks `fields` in the object `at` (named `path` in messages); problems go to `errors`.
fn check_fields(at: &Value, path: &str, fields: &[Field], errors: &mut Vec<String>) {
    for f in fields {
        let here = format!("{path}.{}", f.name);
        let Some(value) = at.get(&f.name) else {
            if !f.optional {
                errors.push(format!("{here} is missing"));
            }
            continue;
        };
        let mut types: Vec<&str> = implied_types(&f.name)
            .map(<[_]>::to_vec)
            .unwrap_or_default();
        if f.list {
            types = vec!["array"];
        } else if !f.fields.is_empty() {
            types = vec!["object"];
        }
        if !types.is_empty() && !types.contains(&type_of(value)) {
            errors.push(format!(
                "{here} is {}, expected {types:?}: {value}",
                type_of(value)
            ));
        }
        if !f.values.is_empty() && !f.values.contains(value) {
            errors.push(format!("{here} is {value}, expected one of {:?}", f.values));
        }
        if f.fields.is_empty() {
            continue;
        }
        let items: Vec<&Value> = match value {
            Value::Array(items) => items.iter().collect(),
            other => vec![other],
        };
        if items.is_empty() {
            errors.push(format!("{here} is empty: the scenario must fill it"));
        }
        for (i, item) in items.into_iter().enumerate() {
            check_fields(item, &format!("{here}[{i}]"), &f.fields, errors);
        }
    }
}

/// Checks a row against the result recorded for it.
fn check_row(row: &Row, result: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    for (place, fields) in &row.places {
        if place.is_empty() {
            check_fields(result, "result", fields, &mut errors);
        } else if let Some(list) = place.strip_suffix("[]") {
            match result.get(list).and_then(Value::as_array) {
                Some(items) if !items.is_empty() => {
                    for (i, item) in items.iter().enumerate() {
                        check_fields(item, &format!("{list}[{i}]"), fields, &mut errors);
                    }
                }
                _ => errors.push(format!("{list} is not a list with items")),
            }
        } else {
            match result.get(place.as_str()) {
                Some(at @ Value::Object(_)) => check_fields(at, place, fields, &mut errors),
                _ => errors.push(format!("{place} is not an object")),
            }
        }
    }
    errors
}

/// Calls a tool over MCP and answers its `structuredContent` (the same JSON is the text).
async fn call(client: &Client, name: &str, args: Value) -> Value {
    let Value::Object(arguments) = args else {
        panic!("arguments are an object")
    };
    let mut params = CallToolRequestParams::new(name.to_string());
    params.arguments = Some(arguments);
    let result = client
        .call_tool(params)
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let structured = result
        .structured_content
        .clone()
        .expect("structuredContent");
    assert_ne!(result.is_error, Some(true), "{name} failed: {structured}");
    structured
}

/// The results of the scenario, by (tool, case).
#[derive(Default)]
struct Calls(BTreeMap<(String, Option<String>), Value>);

impl Calls {
    fn record(&mut self, tool: &str, case: Option<&str>, result: Value) -> Value {
        self.0
            .insert((tool.to_string(), case.map(str::to_string)), result.clone());
        result
    }
}

async fn connect(m: &Marcus) -> Client {
    ().serve(StreamableHttpClientTransport::from_uri(format!(
        "{}/mcp",
        m.url
    )))
    .await
    .expect("connect")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_upstream_field_is_returned_with_its_type() {
    let rows = table();
    let m = Marcus::start(&[]);
    let client = connect(&m).await;
    let mut calls = Calls::default();
    const HOLDS: &str = "agent already holds one";

    calls.record(
        "ping",
        None,
        call(&client, "ping", json!({"echo": "hello"})).await,
    );
    let created = call(
        &client,
        "create_project",
        json!({
            "project_name": "compat",
            "description": "a spec, an API built on it, a UI on the API, and docs",
            "options": {"tags": ["demo"]},
            "tasks": [
                {"name": "Spec", "priority": "high", "labels": ["design"],
                 "acceptance_criteria": ["the API is specified"], "estimated_hours": 2},
                {"name": "API", "dependencies": ["Spec"], "labels": ["backend"], "estimated_hours": 3},
                {"name": "UI", "description": "screens over the API", "dependencies": ["API"], "estimated_hours": 2},
                {"name": "Docs", "estimated_hours": 1}
            ]
        }),
    )
    .await;
    calls.record("create_project", None, created.clone());
    let project = created["project_id"].as_str().unwrap().to_string();
    let id = |name: &str| {
        created["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .map(|t| t["id"].as_str().unwrap().to_string())
            .unwrap()
    };
    let (spec, api) = (id("Spec"), id("API"));

    let registered = call(
        &client,
        "register_agent",
        json!({"agent_id": "ada", "name": "Ada", "role": "Backend Developer",
               "skills": ["design", "backend"], "project_id": project}),
    )
    .await;
    calls.record("register_agent", None, registered);
    call(
        &client,
        "register_agent",
        json!({"agent_id": "bob", "name": "Bob", "role": "Writer", "skills": ["docs"], "project_id": project}),
    )
    .await;
    let selected = call(&client, "select_project", json!({"project_id": project})).await;
    calls.record("select_project", None, selected);
    let listed = call(&client, "list_projects", json!({})).await;
    assert_eq!(listed["projects"][0]["is_active"], true, "{listed}");
    calls.record("list_projects", None, listed);

    // Ada does the spec, logging a decision and an artifact, and completes it.
    let first = call(&client, "request_next_task", json!({"agent_id": "ada"})).await;
    assert_eq!(first["task"]["id"], spec.as_str(), "{first}");
    let decided = call(
        &client,
        "log_decision",
        json!({"agent_id": "ada", "task_id": spec, "decision": "REST with JSON bodies"}),
    )
    .await;
    calls.record("log_decision", None, decided);
    let logged = call(
        &client,
        "log_artifact",
        json!({"agent_id": "ada", "task_id": spec, "filename": "api.yaml",
               "content": "openapi: 3.1.0", "artifact_type": "specification",
               "description": "the API"}),
    )
    .await;
    calls.record("log_artifact", None, logged);
    let done = call(
        &client,
        "report_task_progress",
        json!({"agent_id": "ada", "task_id": spec, "status": "completed", "progress": 100,
               "message": "specified"}),
    )
    .await;
    calls.record("report_task_progress", None, done);

    // The API builds on the spec: its hand-off carries the spec's work.
    let next = call(&client, "request_next_task", json!({"agent_id": "ada"})).await;
    assert_eq!(next["task"]["id"], api.as_str(), "{next}");
    assert_eq!(
        next["task"]["dependency_artifacts"][0]["filename"],
        "api.yaml"
    );
    calls.record("request_next_task", Some("a task"), next);
    let again = call(&client, "request_next_task", json!({"agent_id": "ada"})).await;
    assert_eq!(again["current_task"]["id"], api.as_str(), "{again}");
    calls.record("request_next_task", Some(HOLDS), again);

    // Bob takes the docs and reports a blocker; then nothing is ready for him.
    let docs = call(&client, "request_next_task", json!({"agent_id": "bob"})).await;
    assert_eq!(docs["task"]["name"], "Docs", "{docs}");
    let blocked = call(
        &client,
        "report_blocker",
        json!({"agent_id": "bob", "task_id": docs["task"]["id"],
               "blocker_description": "no access to the wiki", "severity": "high"}),
    )
    .await;
    calls.record("report_blocker", None, blocked);
    let none = call(&client, "request_next_task", json!({"agent_id": "bob"})).await;
    calls.record("request_next_task", Some("none ready"), none);

    let context = call(&client, "get_task_context", json!({"task_id": api})).await;
    calls.record("get_task_context", None, context);
    let ada = call(&client, "get_agent_status", json!({"agent_id": "ada"})).await;
    assert_eq!(ada["agent"]["status"], "working", "{ada}");
    calls.record("get_agent_status", None, ada);
    let agents = call(&client, "list_registered_agents", json!({})).await;
    calls.record("list_registered_agents", None, agents);
    let status = call(
        &client,
        "get_project_status",
        json!({"project_id": project}),
    )
    .await;
    assert_eq!(status["workers"]["active"], 1, "{status}");
    calls.record("get_project_status", None, status);
    let board = call(
        &client,
        "get_all_board_tasks",
        json!({"project_id": project}),
    )
    .await;
    calls.record("get_all_board_tasks", None, board);
    let deps = call(&client, "check_task_dependencies", json!({"task_id": api})).await;
    calls.record("check_task_dependencies", None, deps);
    let health = call(
        &client,
        "check_board_health",
        json!({"project_id": project}),
    )
    .await;
    calls.record("check_board_health", None, health);
    let optimal = call(
        &client,
        "get_optimal_agent_count",
        json!({"project_id": project}),
    )
    .await;
    calls.record("get_optimal_agent_count", None, optimal);
    let unassigned = call(&client, "unassign_task", json!({"task_id": api})).await;
    assert_eq!(unassigned["agent_id"], "ada", "{unassigned}");
    calls.record("unassign_task", None, unassigned);
    let ada = call(&client, "get_agent_status", json!({"agent_id": "ada"})).await;
    assert_eq!(ada["agent"]["status"], "available", "{ada}");

    let mut errors = Vec::new();
    for row in &rows {
        let key = (row.tool.clone(), row.case.clone());
        match calls.0.get(&key) {
            None => errors.push(format!("{} ({:?}) was never called", row.tool, row.case)),
            Some(result) => errors.extend(
                check_row(row, result)
                    .into_iter()
                    .map(|e| format!("{} ({:?}): {e}", row.tool, row.case)),
            ),
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    client.cancel().await.ok();
}

#[test]
fn the_table_is_read_as_written() {
    let rows = table();
    let find = |tool: &str, case: Option<&str>| {
        rows.iter()
            .find(|r| r.tool == tool && r.case.as_deref() == case)
            .unwrap_or_else(|| panic!("no row for {tool} {case:?}"))
    };
    let ping = &find("ping", None).places[0].1;
    assert_eq!(ping[1].name, "status");
    assert_eq!(ping[1].values, vec![json!("online")]);
    let context = find("get_task_context", None);
    let ctx = &context.places[1];
    assert_eq!(ctx.0, "context");
    let dependent = ctx.1.iter().find(|f| f.name == "dependent_tasks").unwrap();
    assert!(dependent.list && dependent.fields.len() == 4);
    assert!(
        ctx.1
            .iter()
            .find(|f| f.name == "recovery_info")
            .unwrap()
            .optional
    );
    let held = find("request_next_task", Some("agent already holds one"));
    let names: Vec<&str> = held.places[0].1.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, vec!["current_task", "already_assigned"]);
    assert_eq!(find("list_projects", None).places[0].0, "projects[]");
    let agent = &find("get_agent_status", None).places[1].1;
    assert!(
        agent
            .iter()
            .find(|f| f.name == "current_tasks")
            .unwrap()
            .list
    );
    // A missing field and a wrong type are found.
    let errors = check_row(
        find("ping", None),
        &json!({"success": "yes", "status": "online"}),
    );
    assert_eq!(errors.len(), 4, "{errors:?}");
    for row in &rows {
        for (_, fields) in &row.places {
            for f in fields {
                implied_types(&f.name);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_reads_as_available_once_its_lease_lapses() {
    let m = Marcus::start(&[]);
    let client = connect(&m).await;
    let created = call(
        &client,
        "create_project",
        json!({"project_name": "short", "tasks": [{"name": "t"}], "options": {"lease_seconds": 1}}),
    )
    .await;
    let project = created["project_id"].as_str().unwrap().to_string();
    call(
        &client,
        "register_agent",
        json!({"agent_id": "a", "name": "A", "project_id": project}),
    )
    .await;
    call(&client, "request_next_task", json!({"agent_id": "a"})).await;
    let readings = |status: Value, agents: Value, api: Value, project_status: Value| {
        let listed = agents["agents"].as_array().unwrap()[0]["status"].clone();
        let routed = api["agent"]["status"].clone();
        (
            status["agent"]["status"].clone(),
            listed,
            routed,
            project_status["workers"]["active"].clone(),
        )
    };
    let read = || async {
        readings(
            call(&client, "get_agent_status", json!({"agent_id": "a"})).await,
            call(&client, "list_registered_agents", json!({})).await,
            m.get("/api/agents/a").json(),
            call(
                &client,
                "get_project_status",
                json!({"project_id": project}),
            )
            .await,
        )
    };
    let working = (
        json!("working"),
        json!("working"),
        json!("working"),
        json!(1),
    );
    assert_eq!(read().await, working);
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let available = (
        json!("available"),
        json!("available"),
        json!("available"),
        json!(0),
    );
    assert_eq!(
        read().await,
        available,
        "nothing was written, the lease lapsed"
    );
    let listed = m.get("/api/agents").json();
    assert_eq!(listed["agents"][0]["status"], "available", "{listed}");
    assert_eq!(listed["agents"][0]["current_tasks"], json!([]), "{listed}");
    client.cancel().await.ok();
}
