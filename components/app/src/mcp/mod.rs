//! MCP over streamable HTTP at `/mcp` (protocol 2025-06-18, also 2025-03-26).
//!
//! POST carries JSON-RPC; answers are `application/json`, or a one-event SSE stream when the
//! client accepts only `text/event-stream`. The server opens no stream of its own, so GET
//! answers 405 as the specification allows. Sessions are recorded in storage, so any host
//! process (or instance) can serve any request of a session.

pub mod jsonrpc;
pub mod session;
pub mod tools;

use crate::http_io::{Request, Response};
use jsonrpc::Incoming;
use marcus_core::api_error::ApiError;
use serde_json::{Value, json};

/// The newest protocol version, offered when the client asks for one we do not know.
pub const LATEST_PROTOCOL: &str = "2025-06-18";
/// Every protocol version this server speaks.
pub const SUPPORTED_PROTOCOLS: &[&str] = &["2025-06-18", "2025-03-26", "2024-11-05"];

/// Handles every method on `/mcp`.
pub fn handle(req: &Request) -> Result<Response, ApiError> {
    match req.method.as_str() {
        "POST" => post(req),
        "GET" => Ok(Response::error(&ApiError::method_not_allowed(
            "this server offers no server-initiated SSE stream; POST JSON-RPC messages to /mcp",
        ))
        .with_header("allow", "POST, DELETE".into())),
        "DELETE" => {
            let Some(id) = req.header("mcp-session-id") else {
                return Err(ApiError::bad_request(
                    "DELETE /mcp needs an Mcp-Session-Id header",
                ));
            };
            session::end(id)?;
            Ok(Response::json(200, &json!({"ended": true})))
        }
        m => Err(crate::router::method_not_allowed(m, &["POST", "DELETE"])),
    }
}

fn post(req: &Request) -> Result<Response, ApiError> {
    if let Some(v) = req.header("mcp-protocol-version")
        && !SUPPORTED_PROTOCOLS.contains(&v.trim())
    {
        return Err(ApiError::bad_request(format!(
            "unsupported MCP-Protocol-Version {v:?}; supported: {}",
            SUPPORTED_PROTOCOLS.join(", ")
        )));
    }
    let body: Value = match serde_json::from_slice(&req.body) {
        Ok(v) => v,
        Err(e) => {
            let err = jsonrpc::error(
                Value::Null,
                jsonrpc::PARSE_ERROR,
                &format!("invalid JSON: {e}"),
            );
            return Ok(reply(req, 400, &err, None));
        }
    };
    let session_header = req.header("mcp-session-id").map(str::to_string);
    let (messages, batch) = match body {
        Value::Array(items) if !items.is_empty() => (items, true),
        Value::Array(_) => {
            let err = jsonrpc::error(Value::Null, jsonrpc::INVALID_REQUEST, "empty batch");
            return Ok(reply(req, 400, &err, None));
        }
        single => (vec![single], false),
    };

    let mut responses = Vec::new();
    let mut new_session = None;
    for message in messages {
        match jsonrpc::classify(message) {
            Incoming::Request { id, method, params } => {
                if method == "initialize" {
                    let (response, sid) = initialize(id, &params)?;
                    new_session = Some(sid);
                    responses.push(response);
                    continue;
                }
                if let Some(sid) = &session_header
                    && !session::exists(sid)?
                {
                    return Err(ApiError::not_found(format!(
                        "MCP session {sid} is unknown or ended; initialize a new session"
                    )));
                }
                let ctx = crate::tools::ToolCtx {
                    session_id: session_header.clone(),
                };
                responses.push(dispatch(&ctx, id, &method, params));
            }
            Incoming::Notification | Incoming::Response => {}
            Incoming::Invalid(err) => responses.push(err),
        }
    }
    if responses.is_empty() {
        return Ok(Response::bytes(202, "application/json", Vec::new()));
    }
    let body = if batch {
        Value::Array(responses)
    } else {
        responses.remove(0)
    };
    Ok(reply(req, 200, &body, new_session))
}

fn initialize(id: Value, params: &Value) -> Result<(Value, String), ApiError> {
    let requested = params
        .get("protocolVersion")
        .and_then(Value::as_str)
        .unwrap_or(LATEST_PROTOCOL);
    let version = if SUPPORTED_PROTOCOLS.contains(&requested) {
        requested
    } else {
        LATEST_PROTOCOL
    };
    let client = params.get("clientInfo").cloned().unwrap_or(Value::Null);
    let sid = session::start(version, &client)?;
    let result = json!({
        "protocolVersion": version,
        "capabilities": {"tools": {"listChanged": false}},
        "serverInfo": {"name": "marcus", "title": "Marcus", "version": env!("CARGO_PKG_VERSION")},
        "instructions": "Marcus coordinates agents on a shared board: register_agent, then loop request_next_task -> get_task_context -> report_task_progress (status completed finishes the task). Report blockers with report_blocker; record decisions and artifacts for later tasks.",
    });
    Ok((jsonrpc::result(id, result), sid))
}

fn dispatch(ctx: &crate::tools::ToolCtx, id: Value, method: &str, params: Value) -> Value {
    match method {
        "ping" => jsonrpc::result(id, json!({})),
        "tools/list" => jsonrpc::result(id, json!({"tools": tools::list()})),
        "tools/call" => match tools::call(ctx, &params) {
            Ok(result) => jsonrpc::result(id, result),
            Err((code, message)) => jsonrpc::error(id, code, &message),
        },
        "resources/list" => jsonrpc::result(id, json!({"resources": []})),
        "prompts/list" => jsonrpc::result(id, json!({"prompts": []})),
        other => jsonrpc::error(
            id,
            jsonrpc::METHOD_NOT_FOUND,
            &format!("method {other} is not supported"),
        ),
    }
}

/// JSON, or a single-event SSE stream when the client accepts only `text/event-stream`.
fn reply(req: &Request, status: u16, body: &Value, session: Option<String>) -> Response {
    let accept = req.header("accept").unwrap_or("");
    let wants_sse = accept.contains("text/event-stream")
        && !accept.contains("application/json")
        && !accept.contains("*/*");
    let mut response = if wants_sse {
        let text = format!("event: message\ndata: {body}\n\n");
        Response::bytes(status, "text/event-stream", text.into_bytes())
    } else {
        Response::json(status, body)
    };
    if let Some(sid) = session {
        response = response.with_header("mcp-session-id", sid);
    }
    response
}
