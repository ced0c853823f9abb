//! JSON-RPC 2.0 messages as MCP uses them.

use serde_json::{Value, json};

/// Invalid JSON was received.
pub const PARSE_ERROR: i64 = -32700;
/// The JSON sent is not a valid request object.
pub const INVALID_REQUEST: i64 = -32600;
/// The method does not exist.
pub const METHOD_NOT_FOUND: i64 = -32601;
/// Invalid method parameters (also: unknown tool).
pub const INVALID_PARAMS: i64 = -32602;

/// One incoming message, classified.
#[derive(Debug)]
pub enum Incoming {
    /// A request expecting a response.
    Request {
        /// Echoed in the response.
        id: Value,
        /// Method name.
        method: String,
        /// Parameters (object or absent).
        params: Value,
    },
    /// A notification: no response.
    Notification,
    /// A response or error from the client (to a server request); acknowledged only.
    Response,
    /// Not a valid JSON-RPC message; answer with this error.
    Invalid(Value),
}

/// Classifies one JSON value as a JSON-RPC message.
pub fn classify(v: Value) -> Incoming {
    let Value::Object(mut m) = v else {
        return Incoming::Invalid(error(
            Value::Null,
            INVALID_REQUEST,
            "a JSON-RPC message must be an object",
        ));
    };
    if m.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        let id = m.get("id").cloned().unwrap_or(Value::Null);
        return Incoming::Invalid(error(id, INVALID_REQUEST, "\"jsonrpc\" must be \"2.0\""));
    }
    let id = m.remove("id");
    match (m.remove("method"), id) {
        (Some(Value::String(method)), Some(id)) if !id.is_null() => Incoming::Request {
            id,
            method,
            params: m.remove("params").unwrap_or(Value::Null),
        },
        (Some(Value::String(_)), None) => Incoming::Notification,
        (Some(_), id) => Incoming::Invalid(error(
            id.unwrap_or(Value::Null),
            INVALID_REQUEST,
            "\"method\" must be a string and \"id\" a string or number",
        )),
        (None, Some(_)) if m.contains_key("result") || m.contains_key("error") => {
            Incoming::Response
        }
        (None, id) => Incoming::Invalid(error(
            id.unwrap_or(Value::Null),
            INVALID_REQUEST,
            "a request needs a \"method\"",
        )),
    }
}

/// A success response.
pub fn result(id: Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

/// An error response.
pub fn error(id: Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}
