//! MCP over streamable HTTP at `/mcp` (protocol 2025-06-18, also 2025-03-26).
//!
//! POST carries JSON-RPC; answers are `application/json`, or a one-event SSE stream when the
//! client accepts only `text/event-stream`. GET opens the session's notification stream
//! ([`notifications`], served before routing since it streams). Sessions are recorded in storage, so any host
//! process (or instance) can serve any request of a session.
//!
//! The rules are applied exactly: every message but `initialize` needs its session's
//! `Mcp-Session-Id` (400 without, 404 when unknown or ended); ids are strings or integers,
//! echoed as sent ([`jsonrpc`]); `params` is an object or absent; notifications and client
//! responses get 202 with no body; batches are accepted only for sessions that negotiated a
//! protocol that still had them (2025-03-26, 2024-11-05), never on 2025-06-18.

pub mod jsonrpc;
pub mod notifications;
pub mod prompt_names;
pub mod prompts;
pub mod protocol;
pub mod session;
pub mod tools;

use crate::http_io::{Request, Response};
use jsonrpc::Incoming;
use marcus_core::api_error::ApiError;
use protocol::{LATEST_PROTOCOL, SUPPORTED_PROTOCOLS};
use serde_json::value::RawValue;
use serde_json::{Value, json};

/// Handles every method on `/mcp`.
pub fn handle(req: &Request) -> Result<Response, ApiError> {
    match req.method.as_str() {
        "POST" => post(req),
        "DELETE" => {
            let Some(id) = req.header("mcp-session-id") else {
                return Err(ApiError::bad_request(
                    "DELETE /mcp needs an Mcp-Session-Id header",
                ));
            };
            session::end(id)?;
            Ok(Response::json(200, &json!({"ended": true})))
        }
        m => Err(crate::allowed_methods::method_not_allowed(
            m,
            &["GET", "POST", "DELETE"],
        )),
    }
}

/// Protocol versions that still allow JSON-RPC batches (2025-06-18 removed them).
const BATCHING_PROTOCOLS: &[&str] = &["2025-03-26", "2024-11-05"];

/// POST: one JSON-RPC message (or, for sessions on a protocol before 2025-06-18, a batch).
///
/// Only `initialize` may come without `Mcp-Session-Id`: every other message needs the id it
/// returned (400 without one, 404 for one that is unknown or ended), as the streamable HTTP
/// transport specifies for servers that issue session ids.
fn post(req: &Request) -> Result<Response, ApiError> {
    if let Some(v) = req.header("mcp-protocol-version")
        && !SUPPORTED_PROTOCOLS.contains(&v.trim())
    {
        return Err(ApiError::bad_request(format!(
            "unsupported MCP-Protocol-Version {v:?}; supported: {}",
            SUPPORTED_PROTOCOLS.join(", ")
        )));
    }
    let body: &RawValue = match std::str::from_utf8(&req.body)
        .map_err(|e| e.to_string())
        .and_then(|text| serde_json::from_str(text).map_err(|e| e.to_string()))
    {
        Ok(v) => v,
        Err(e) => {
            let err = jsonrpc::error(
                &jsonrpc::null_id(),
                jsonrpc::PARSE_ERROR,
                &format!("invalid JSON: {e}"),
            );
            return Ok(reply(req, 400, &err, None));
        }
    };
    let batch = body.get().starts_with('[');
    let single = (!batch).then(|| jsonrpc::classify(body));
    if let Some(Incoming::Request { id, method, params }) = &single
        && method == "initialize"
    {
        let (response, sid) = initialize(id, params)?;
        return Ok(reply(req, 200, &response, Some(sid)));
    }
    let Some(session_id) = req.header("mcp-session-id").map(str::to_string) else {
        return Err(ApiError::bad_request(
            "this request needs the Mcp-Session-Id header that initialize returned; \
             only initialize may come without one",
        ));
    };
    if let Some(Incoming::Request { method, params, .. }) = &single {
        session::read_ahead(&session_id, method, params);
    }
    let Some(session) = session::facts(&session_id)? else {
        return Err(ApiError::not_found(format!(
            "MCP session {session_id} is unknown or ended; initialize a new session"
        )));
    };
    let protocol = session.protocol;
    let ctx = crate::tools::ToolCtx {
        session_id: Some(session_id),
        session_project: std::cell::RefCell::new(session.project_id),
        session_agent: std::cell::RefCell::new(session.agent_id),
        taken_over: std::cell::RefCell::new(session.taken_over),
    };
    if let Some(message) = single {
        return Ok(match message {
            Incoming::Request { id, method, params } => {
                reply(req, 200, &dispatch(&ctx, &id, &method, params), None)
            }
            Incoming::Notification | Incoming::Response => {
                Response::bytes(202, "application/json", Vec::new())
            }
            Incoming::BadParams(err) => reply(req, 200, &err, None),
            Incoming::Invalid(err) => reply(req, 400, &err, None),
        });
    }
    if !BATCHING_PROTOCOLS.contains(&protocol.as_str()) {
        let err = jsonrpc::error(
            &jsonrpc::null_id(),
            jsonrpc::INVALID_REQUEST,
            &format!(
                "this session speaks MCP {protocol}, which has no JSON-RPC batches; send one \
                 message per POST (batches are accepted on {})",
                BATCHING_PROTOCOLS.join(" and ")
            ),
        );
        return Ok(reply(req, 400, &err, None));
    }
    let messages: Vec<&RawValue> = serde_json::from_str(body.get()).unwrap_or_default();
    if messages.is_empty() {
        let err = jsonrpc::error(&jsonrpc::null_id(), jsonrpc::INVALID_REQUEST, "empty batch");
        return Ok(reply(req, 400, &err, None));
    }
    let mut responses = Vec::new();
    for message in messages {
        match jsonrpc::classify(message) {
            Incoming::Request { id, method, .. } if method == "initialize" => {
                responses.push(jsonrpc::error(
                    &id,
                    jsonrpc::INVALID_REQUEST,
                    "initialize must not be part of a JSON-RPC batch",
                ));
            }
            Incoming::Request { id, method, params } => {
                responses.push(dispatch(&ctx, &id, &method, params));
            }
            Incoming::Notification | Incoming::Response => {}
            Incoming::Invalid(err) | Incoming::BadParams(err) => responses.push(err),
        }
    }
    if responses.is_empty() {
        return Ok(Response::bytes(202, "application/json", Vec::new()));
    }
    let body = serde_json::value::to_raw_value(&responses).expect("responses serialize");
    Ok(reply(req, 200, &body, None))
}

fn initialize(id: &RawValue, params: &Value) -> Result<(Box<RawValue>, String), ApiError> {
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
        "capabilities": {"tools": {"listChanged": false}, "prompts": {"listChanged": false}},
        "serverInfo": {"name": "marcus", "title": "Marcus", "version": env!("CARGO_PKG_VERSION")},
        "instructions": instructions(),
    });
    Ok((jsonrpc::result(id, result), sid))
}

/// What a client tells its agent about Marcus at initialization: the loop, how long a task
/// is held and how to keep it (the figures come from the rules that apply them).
fn instructions() -> String {
    use marcus_core::board::lease::{LEASE_INITIAL_SECS, renewal_secs};
    format!(
        "Marcus coordinates agents on a shared board: register_agent once per session, then \
         loop request_next_task -> get_task_context -> work -> report_task_progress (status \
         completed finishes the task). When no task is ready, call request_next_task with \
         wait_seconds (up to 60) to be answered as soon as one is, instead of polling. A \
         task you take is yours under a lease of {} s (a project may set another length). \
         Any call you make about it (report_task_progress, log_decision, log_artifact, \
         get_task_context, check_task_dependencies) renews it to {} s, up to {} s as the \
         work advances, so make one at least every couple of minutes during long work. If \
         the lease lapses anyway, your completion still counts as long as no other agent \
         took the task meanwhile. Report blockers with report_blocker; record decisions and \
         artifacts for the tasks that build on yours. An agent_id belongs to one session: \
         registering an id another live session uses is refused unless you pass \
         takeover: true.",
        LEASE_INITIAL_SECS,
        renewal_secs(0),
        renewal_secs(100)
    )
}

fn dispatch(
    ctx: &crate::tools::ToolCtx,
    id: &RawValue,
    method: &str,
    params: Value,
) -> Box<RawValue> {
    match method {
        "ping" => jsonrpc::result(id, json!({})),
        "tools/list" => jsonrpc::result(id, json!({"tools": tools::list()})),
        "tools/call" => match tools::call(ctx, &params) {
            Ok(result) => jsonrpc::result(id, result),
            Err((code, message)) => jsonrpc::error(id, code, &message),
        },
        "resources/list" => jsonrpc::result(id, json!({"resources": []})),
        "prompts/list" => jsonrpc::result(id, json!({"prompts": prompts::list()})),
        "prompts/get" => match prompts::get(&params) {
            Ok(result) => jsonrpc::result(id, result),
            Err((code, message)) => jsonrpc::error(id, code, &message),
        },
        other => jsonrpc::error(
            id,
            jsonrpc::METHOD_NOT_FOUND,
            &format!("method {other} is not supported"),
        ),
    }
}

/// JSON, or a single-event SSE stream when the client accepts only `text/event-stream`.
fn reply(req: &Request, status: u16, body: &RawValue, session: Option<String>) -> Response {
    let accept = req.header("accept").unwrap_or("");
    let wants_sse = accept.contains("text/event-stream")
        && !accept.contains("application/json")
        && !accept.contains("*/*");
    let text = body.get();
    let mut response = if wants_sse {
        let text = format!("event: message\ndata: {text}\n\n");
        Response::bytes(status, "text/event-stream", text.into_bytes())
    } else {
        Response::bytes(status, "application/json", text.as_bytes().to_vec())
    };
    if let Some(sid) = session {
        response = response.with_header("mcp-session-id", sid);
    }
    response
}
