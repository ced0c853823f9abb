//! The board's operations, from the route table (`routes::board::ROUTES`) and the schemas
//! derived from the tools' argument and answer types: path parameters, query parameters (GET) and the JSON body
//! (POST) are the tool's arguments, so their constraints are the tool's.

use super::operation::{Operation, name_schema};
use crate::routes::board::{Answer, BoardRoute, ROUTES, created};
use crate::tools::{ToolSpec, find, registry};
use serde_json::{Map, Value, json};

/// Error codes a tool may answer with, by status.
const TOOL_400: &[&str] = &["bad_request", "invalid"];
const TOOL_404: &[&str] = &[
    "not_found",
    "agent_not_found",
    "task_not_found",
    "project_not_found",
    "blocker_not_found",
    "no_project",
];
const TOOL_409: &[&str] = &[
    "conflict",
    "not_task_holder",
    "stale_completion",
    "project_ambiguous",
];
const TOOL_413: &[&str] = &["artifact_too_large"];
const TOOL_503: &[&str] = &["contention"];

/// Every board route and every `/api/tools/<name>` route.
pub fn operations() -> Vec<Operation> {
    let mut ops: Vec<Operation> = ROUTES.iter().map(board_operation).collect();
    ops.push(
        Operation::new("GET", "/api/tools", "tools", "The tools and their argument schemas")
            .without_backends()
            .answers(
                200,
                "The tool list",
                json!({"type": "object", "required": ["tools"], "properties": {"tools": {"type": "array", "items": {
                    "type": "object", "required": ["name", "description", "access", "input_schema"], "properties": {
                        "access": {"enum": ["read", "agent", "board", "admin"],
                                   "description": "Who may call it: read (every role), agent (admin, member, and agent tokens as their own agents), board (admin, member), admin"}}}}}}),
            ),
    );
    ops.extend(registry().iter().map(tool_operation));
    ops
}

/// The properties of `schema` (a tool's object schema).
fn properties(schema: &Value) -> Map<String, Value> {
    schema["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default()
}

/// A body or query schema for what stays of the tool's arguments once the path gave `taken`.
fn without(schema: &Value, taken: &[&str]) -> Value {
    let mut s = schema.clone();
    if let Some(props) = s["properties"].as_object_mut() {
        for t in taken {
            props.remove(*t);
        }
    }
    if let Some(req) = s["required"].as_array_mut() {
        req.retain(|r| !taken.iter().any(|t| r == t));
    }
    // An "one of these is given" rule is met by the path when the path gives one of them.
    if !taken.is_empty()
        && let Some(obj) = s.as_object_mut()
    {
        obj.remove("anyOf");
    }
    s
}

/// A query parameter's schema from an argument's: query values are never `null`.
fn query_schema(arg: &Value) -> Value {
    let mut s = arg.clone();
    if let Some(Value::Array(types)) = s.get("type").cloned() {
        let kept: Vec<Value> = types.into_iter().filter(|t| t != "null").collect();
        s["type"] = if kept.len() == 1 {
            kept[0].clone()
        } else {
            Value::Array(kept)
        };
    }
    if let Some(Value::Array(choices)) = s.get("enum").cloned() {
        s["enum"] = Value::Array(choices.into_iter().filter(|c| !c.is_null()).collect());
        s["type"] = json!("string");
    }
    s
}

fn path_params(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .collect()
}

fn body_required(schema: &Value) -> bool {
    schema["required"].as_array().is_some_and(|r| !r.is_empty()) || schema.get("anyOf").is_some()
}

fn with_tool_errors(op: Operation, tool: &ToolSpec, has_body: bool) -> Operation {
    let mut op = op
        .fails(400, TOOL_400)
        .fails(404, TOOL_404)
        .fails(409, TOOL_409)
        .fails(503, TOOL_503);
    if has_body && tool.name == "log_artifact" {
        op = op.fails(413, TOOL_413);
    }
    op
}

fn board_operation(route: &BoardRoute) -> Operation {
    let params = path_params(route.path);
    let mut op = Operation::new(route.method, route.path, "board", route.summary);
    match &route.answer {
        Answer::Tool(name) => {
            let Some(tool) = find(name) else {
                return op.description(&format!("Names the unknown tool `{name}`"));
            };
            op = op.access(tool.access);
            let input = (tool.input_schema)();
            let args = properties(&input);
            for p in &params {
                if let Some(schema) = args.get(*p) {
                    op = op.path_param(p, query_schema(schema));
                }
            }
            op = op.description(&format!(
                "Runs the `{name}` tool (also `POST /api/tools/{name}` and MCP `tools/call`)."
            ));
            let status = if created(route) { 201 } else { 200 };
            op = op.answers(status, "The tool's result", (tool.answer_schema)());
            let rest = without(&input, &params);
            let has_body = route.method == "POST";
            if has_body {
                op = op.json_body(body_required(&rest), rest);
            } else {
                let required: Vec<String> = rest["required"]
                    .as_array()
                    .map(|r| {
                        r.iter()
                            .filter_map(|v| v.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default();
                for (arg, schema) in properties(&rest) {
                    let q = query_schema(&schema);
                    op = if required.contains(&arg) {
                        op.required_query(&arg, q, "Tool argument")
                    } else {
                        op.query(&arg, q, "Tool argument")
                    };
                }
            }
            with_tool_errors(op, tool, has_body)
        }
        Answer::View(_) => {
            for p in &params {
                op = op.path_param(p, name_schema());
            }
            op.description("A read-only view computed from the board.")
                .answers(200, "The view", json!({"type": "object"}))
                .fails(400, TOOL_400)
                .fails(404, TOOL_404)
        }
    }
}

fn tool_operation(tool: &ToolSpec) -> Operation {
    let input = (tool.input_schema)();
    let op = Operation::new(
        "POST",
        &format!("/api/tools/{}", tool.name),
        "tools",
        tool.description,
    )
    .description(&format!(
        "Runs `{}` with its arguments as the JSON body, as MCP `tools/call` does.",
        tool.name
    ))
    .answers(200, "The tool's result", (tool.answer_schema)())
    .json_body(body_required(&input), input)
    .access(tool.access);
    with_tool_errors(op, tool, true).fails(404, &["not_found"])
}
