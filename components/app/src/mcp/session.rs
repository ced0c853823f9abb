//! MCP sessions, stored as documents so every host process recognises them.

use crate::bindings::storage::Expect;
use crate::ids;
use crate::platform_error::to_api;
use crate::read_ahead;
use crate::records::collections;
use marcus_core::api_error::ApiError;
use serde_json::{Value, json};

const COLLECTION: &str = collections::MCP_SESSIONS;

/// Records a new session and returns its id.
pub fn start(protocol_version: &str, client_info: &Value) -> Result<String, ApiError> {
    let id = ids::new_id("mcp");
    let data = json!({"protocol_version": protocol_version, "client_info": client_info, "started_at": ids::now_ms()});
    crate::platform::current()
        .put(COLLECTION, &id, &data.to_string(), Expect::Absent)
        .map_err(to_api)?;
    Ok(id)
}

/// What a request needs of its session: the protocol it negotiated and the project it
/// selected, read in one call.
pub struct SessionFacts {
    /// The negotiated protocol version.
    pub protocol: String,
    /// The project `select_project` chose, if any.
    pub project_id: Option<String>,
}

/// The session's facts, or `None` when the id was never issued or the session ended.
pub fn facts(id: &str) -> Result<Option<SessionFacts>, ApiError> {
    if marcus_core::names::check_name("session id", id).is_err() {
        return Ok(None);
    }
    let doc = match read_ahead::take_document(COLLECTION, id) {
        Some(doc) => doc,
        None => crate::platform::current()
            .get(COLLECTION, id)
            .map_err(to_api)?,
    };
    let Some(doc) = doc else {
        return Ok(None);
    };
    let data: Value = serde_json::from_str(&doc.data).unwrap_or(Value::Null);
    let text = |field: &str| data.get(field).and_then(Value::as_str).map(str::to_string);
    Ok(Some(SessionFacts {
        protocol: text("protocol_version")
            .unwrap_or_else(|| super::protocol::LATEST_PROTOCOL.to_string()),
        project_id: text("project_id"),
    }))
}

/// Reads the session together with the records a tool call names in its arguments (its
/// agent, task and project), in one platform call: the call's own reads of them then cross
/// nothing. A failed read ahead is left to those reads to report.
pub fn read_ahead(id: &str, method: &str, params: &Value) {
    if marcus_core::names::check_name("session id", id).is_err() {
        return;
    }
    let mut reads = vec![read_ahead::get(COLLECTION, id)];
    if method == "tools/call"
        && let Some(Value::Object(args)) = params.get("arguments")
    {
        for (argument, collection) in [
            ("agent_id", collections::AGENTS),
            ("task_id", collections::TASKS),
            ("project_id", collections::PROJECTS),
        ] {
            if let Some(Value::String(named)) = args.get(argument)
                && marcus_core::names::check_name("id", named).is_ok()
            {
                reads.push(read_ahead::get(collection, named));
            }
        }
    }
    let _ = read_ahead::read(reads);
}

/// Ends a session; unknown ids are a 404.
pub fn end(id: &str) -> Result<(), ApiError> {
    marcus_core::names::check_name("session id", id)?;
    if crate::platform::current()
        .delete(COLLECTION, id, None)
        .map_err(to_api)?
    {
        Ok(())
    } else {
        Err(ApiError::not_found(format!("MCP session {id} is unknown")))
    }
}
