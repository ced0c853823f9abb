//! The app's own operations beside the board: dashboard, liveness, features, this
//! document, project event polling and MCP.

use super::operation::Operation;
use super::schemas::{count, event_page, int_range, object_with};
use crate::mcp::protocol::SUPPORTED_PROTOCOLS;
use crate::routes::events::MAX_LIMIT as MAX_EVENTS;
use serde_json::json;

/// The dashboard, liveness, features, this document, events and MCP.
pub fn operations() -> Vec<Operation> {
    let page = |method: &str| {
        Operation::new(method, "/", "dashboard", "The dashboard (HTML)")
            .without_backends()
            .answers_media(200, "The page", &[("text/html", json!({"type": "string"}))])
            .answers_media(304, "Not modified (If-None-Match)", &[])
    };
    let asset = |method: &str| {
        Operation::new(
            method,
            "/assets/{asset}",
            "dashboard",
            "Dashboard stylesheet and script",
        )
        .without_backends()
        .path_param(
            "asset",
            json!({"type": "string", "enum": ["dashboard.css", "dashboard.js"]}),
        )
        .query(
            "v",
            json!({"type": "string"}),
            "Content version: the current one makes the answer cacheable for a year",
        )
        .answers_media(
            200,
            "The file",
            &[
                ("text/css", json!({"type": "string"})),
                ("text/javascript", json!({"type": "string"})),
            ],
        )
        .answers_media(304, "Not modified (If-None-Match)", &[])
        .fails(404, &["not_found"])
    };
    let session_header = json!({"type": "string", "minLength": 1, "maxLength": marcus_core::names::MAX_NAME_LEN,
                                "pattern": marcus_core::names::NAME_PATTERN});
    vec![
        page("GET"),
        page("HEAD"),
        asset("GET"),
        asset("HEAD"),
        Operation::new("GET", "/healthz", "operations", "Liveness: the app instantiates and answers")
            .without_backends()
            .answers(200, "Alive", object_with(&[("status", json!({"const": "ok"}))])),
        Operation::new("GET", "/api/features", "operations", "Tier, capabilities, backends and counts")
            .answers(200, "The host's report", object_with(&[
                ("tier", json!({"type": "string"})),
                ("capabilities", json!({"type": "object"})),
                ("backends", json!({"type": "object"})),
                ("push", json!({"type": "object"})),
                ("host", json!({"enum": ["native", "spin"]})),
                ("environment", json!({"type": "object"})),
                ("counts", json!({"type": "object"})),
                ("auth", json!({"type": "object", "required": ["mode", "insecure", "principal"], "properties": {
                    "mode": {"enum": ["local", "required", "insecure-no-auth"]},
                    "insecure": {"type": "boolean"},
                    "principal": {"type": ["object", "null"]},
                    "oidc_issuer": {"type": ["string", "null"]}}})),
            ])),
        Operation::new("GET", "/api/openapi.json", "operations", "This document")
            .without_backends()
            .answers(200, "OpenAPI 3.1", object_with(&[("openapi", json!({"type": "string"})), ("paths", json!({"type": "object"}))])),
        Operation::new("GET", "/api/projects/{project_id}/events", "board", "A project's events, polled")
            .query("since", count(), "Events after this sequence number")
            .query("limit", int_range(1, MAX_EVENTS as u64), "Most events returned (100 when absent)")
            .answers(200, "Events (each with its seq)", event_page(json!({})))
            .fails(400, &["bad_request"])
            .fails(404, &["project_not_found"]),
        Operation::new("POST", "/mcp", "mcp", "MCP (streamable HTTP): one JSON-RPC message or a batch")
            .header("Mcp-Session-Id", false, json!({"type": "string"}), "The session from initialize (an unknown one answers 404 to requests)")
            .header("MCP-Protocol-Version", false, json!({"type": "string", "enum": SUPPORTED_PROTOCOLS}), "Protocol version")
            .json_body(true, json!({"description": "A JSON-RPC 2.0 message or a non-empty array of them",
                                    "not": {"type": "array", "maxItems": 0}}))
            .answers_media(200, "JSON-RPC response(s); a one-event SSE stream when the client accepts only text/event-stream", &[
                ("application/json", json!({})),
                ("text/event-stream", json!({"type": "string"})),
            ])
            .answers_media(202, "Only notifications or responses: nothing to answer", &[("application/json", json!({}))])
            .answers(400, "Invalid JSON, an empty batch (JSON-RPC error) or an unsupported protocol version (error)", json!({"type": "object"}))
            .fails(404, &["not_found"]),
        Operation::new("GET", "/mcp", "mcp", "The session's notification stream (task available, lease expiring, blocker resolved)")
            .header("Mcp-Session-Id", true, session_header.clone(), "The session from initialize")
            .header("Last-Event-ID", false, json!({"type": "string"}), "Resume after this event")
            .answers_media(200, "Server-Sent Events carrying JSON-RPC notifications, for a bounded time", &[
                ("text/event-stream", json!({"type": "string"})),
            ])
            .fails(400, &["bad_request"])
            .fails(404, &["not_found"])
            .fails(406, &["not_acceptable"]),
        Operation::new("DELETE", "/mcp", "mcp", "End an MCP session")
            .header("Mcp-Session-Id", true, session_header, "The session to end")
            .answers(200, "Ended", object_with(&[("ended", json!({"const": true}))]))
            .fails(400, &["bad_request", "invalid"])
            .fails(404, &["not_found"]),
    ]
}
