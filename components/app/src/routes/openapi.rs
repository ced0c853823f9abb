//! `/api/openapi.json`, generated from the same tables that route requests.

use super::board::ROUTES;
use crate::http_io::Response;
use crate::tools::find;
use marcus_core::api_error::ApiError;
use serde_json::{Map, Value, json};

/// Routes served outside the board table: (method, path, summary).
pub const PLATFORM_ROUTES: &[(&str, &str, &str)] = &[
    ("GET", "/", "The dashboard (HTML)"),
    (
        "GET",
        "/assets/{asset}",
        "Dashboard stylesheet and script (?v= content version)",
    ),
    ("GET", "/healthz", "Liveness"),
    (
        "GET",
        "/api/features",
        "Tier, capabilities, backends and counts",
    ),
    ("GET", "/api/openapi.json", "This document"),
    (
        "GET",
        "/api/projects/{project_id}/events",
        "Project events after ?since= (sequence number), at most ?limit=",
    ),
    ("GET", "/api/tools", "The tools and their argument schemas"),
    (
        "POST",
        "/api/tools/{tool}",
        "Run any tool with its arguments as the JSON body",
    ),
    ("POST", "/mcp", "MCP (streamable HTTP, JSON-RPC)"),
    ("DELETE", "/mcp", "End an MCP session"),
    ("GET", "/api/storage", "Collections"),
    ("GET", "/api/storage/{collection}/{id}", "Read a document"),
    (
        "PUT",
        "/api/storage/{collection}/{id}",
        "Write a document (If-Match / If-None-Match)",
    ),
    (
        "DELETE",
        "/api/storage/{collection}/{id}",
        "Delete a document",
    ),
    ("POST", "/api/storage/{collection}/_query", "Equality query"),
    ("POST", "/api/storage/{collection}/_count", "Count"),
    (
        "POST",
        "/api/storage/{collection}/_scan",
        "Scan in id order",
    ),
    ("POST", "/api/storage/_batch", "Atomic batch write"),
    ("GET", "/api/cache/{key}", "Read a cached value"),
    ("PUT", "/api/cache/{key}", "Cache a value (?ttl=)"),
    ("DELETE", "/api/cache/{key}", "Remove a cached value"),
    ("DELETE", "/api/cache", "Clear the cache"),
    (
        "GET",
        "/api/realtime/{channel}",
        "Poll a channel (?since=, ?limit=)",
    ),
    ("POST", "/api/realtime/{channel}", "Publish on a channel"),
];

fn path_params(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect()
}

fn error_responses() -> Value {
    let err = json!({"$ref": "#/components/schemas/Error"});
    json!({
        "400": {"description": "Bad request", "content": {"application/json": {"schema": err}}},
        "404": {"description": "Not found", "content": {"application/json": {"schema": err}}},
        "409": {"description": "Conflict", "content": {"application/json": {"schema": err}}}
    })
}

/// Builds the document.
pub fn document() -> Value {
    let mut paths: Map<String, Value> = Map::new();
    let mut add = |method: &str, path: &str, op: Value| {
        let entry = paths.entry(path.to_string()).or_insert_with(|| json!({}));
        if let Value::Object(m) = entry {
            m.insert(method.to_ascii_lowercase(), op);
        }
    };
    for r in ROUTES {
        let mut responses = error_responses();
        let tool = r.answer.tool();
        responses[if r.method == "POST" && tool.is_some_and(|t| t.starts_with("create_")) {
            "201"
        } else {
            "200"
        }] = json!({"description": "The tool's result", "content": {"application/json": {"schema": {"type": "object"}}}});
        let mut op = json!({
            "summary": r.summary,
            "operationId": format!("{}_{}", r.method.to_ascii_lowercase(), r.path.trim_start_matches("/api/").replace(['/', '{', '}', '-'], "_")),
            "description": match tool {
                Some(t) => format!("Runs the `{t}` tool."),
                None => "A read-only view computed from the board.".to_string(),
            },
            "parameters": path_params(r.path),
            "responses": responses,
        });
        if r.method == "POST"
            && let Some(tool) = tool.and_then(find)
        {
            op["requestBody"] = json!({"required": false, "content": {"application/json": {"schema": (tool.input_schema)()}}});
        }
        add(r.method, r.path, op);
    }
    for (method, path, summary) in PLATFORM_ROUTES {
        let op = json!({
            "summary": summary,
            "parameters": path_params(path),
            "responses": {"200": {"description": "OK"}},
        });
        add(method, path, op);
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Marcus", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Coordination board for AI coding agents. Errors are {\"error\": {\"code\", \"message\"}}."},
        "paths": paths,
        "components": {"schemas": {"Error": {
            "type": "object", "required": ["error"],
            "properties": {"error": {"type": "object", "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}
        }}}
    })
}

/// `GET /api/openapi.json`.
pub fn get() -> Result<Response, ApiError> {
    Ok(Response::json(200, &document()))
}
