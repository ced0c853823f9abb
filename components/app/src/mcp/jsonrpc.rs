//! JSON-RPC 2.0 messages as MCP uses them, read strictly.
//!
//! A request id is kept as the raw JSON text the client sent and echoed byte for byte, so a
//! number is never rounded through a float (2^64 comes back as `18446744073709551616`). MCP
//! allows string and integer ids only ([`marcus_core::jsonrpc_id`]); anything else, and any
//! other malformed message, is answered with Invalid Request and a null id.

use marcus_core::jsonrpc_id::{self, IdKind};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

/// Invalid JSON was received.
pub const PARSE_ERROR: i64 = -32700;
/// The JSON sent is not a valid request object.
pub const INVALID_REQUEST: i64 = -32600;
/// The method does not exist.
pub const METHOD_NOT_FOUND: i64 = -32601;
/// Invalid method parameters (also: unknown tool).
pub const INVALID_PARAMS: i64 = -32602;

/// A request id exactly as the client wrote it (a JSON string or integer), or `null` in
/// errors about messages whose id could not be read.
pub type Id = Box<RawValue>;

/// The `null` id of errors that cannot name a request.
pub fn null_id() -> Id {
    RawValue::from_string("null".into()).expect("null is JSON")
}

/// One incoming message, classified.
#[derive(Debug)]
pub enum Incoming {
    /// A request expecting a response.
    Request {
        /// Echoed in the response.
        id: Id,
        /// Method name.
        method: String,
        /// Parameters: an object, or an empty object when absent.
        params: Value,
    },
    /// A notification: no response.
    Notification,
    /// A response or error from the client (to a server request); acknowledged only.
    Response,
    /// Not a valid JSON-RPC message; answer with this error (HTTP 400 for a single message).
    Invalid(Box<RawValue>),
    /// A valid request whose parameters MCP cannot take (positional); answer with this
    /// error like any other method error.
    BadParams(Box<RawValue>),
}

/// The members of a message, each `Some` when present (even when `null`).
#[derive(Deserialize)]
struct Members {
    #[serde(default, deserialize_with = "present")]
    jsonrpc: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    id: Option<Box<RawValue>>,
    #[serde(default, deserialize_with = "present")]
    method: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    params: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    result: Option<serde::de::IgnoredAny>,
    #[serde(default, deserialize_with = "present")]
    error: Option<serde::de::IgnoredAny>,
}

/// A member that is present, `null` included (a plain `Option` reads `null` as absent).
fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// Classifies one message given as raw JSON (already known to be valid JSON).
pub fn classify(message: &RawValue) -> Incoming {
    let invalid = |id: &RawValue, why: &str| Incoming::Invalid(error(id, INVALID_REQUEST, why));
    if !message.get().trim_start().starts_with('{') {
        return invalid(&null_id(), "a JSON-RPC message must be an object");
    }
    let m: Members = match serde_json::from_str(message.get()) {
        Ok(m) => m,
        Err(e) => return invalid(&null_id(), &format!("unreadable JSON-RPC message: {e}")),
    };
    // An id that MCP allows is echoed even in errors about the rest of the message.
    let id = match m.id {
        None => None,
        Some(raw) if jsonrpc_id::kind(raw.get()) == IdKind::Refused => {
            return invalid(
                &null_id(),
                "\"id\" must be a string or an integer (MCP allows no null, fractional, \
                 boolean, object or array ids)",
            );
        }
        Some(raw) => Some(raw),
    };
    let echo = |id: &Option<Id>| id.clone().unwrap_or_else(null_id);
    if m.jsonrpc.as_ref().and_then(Value::as_str) != Some("2.0") {
        return invalid(&echo(&id), "\"jsonrpc\" must be \"2.0\"");
    }
    let method = match m.method {
        Some(Value::String(method)) => Some(method),
        Some(_) => return invalid(&echo(&id), "\"method\" must be a string"),
        None => None,
    };
    let Some(method) = method else {
        return match (&id, m.result.is_some() != m.error.is_some()) {
            (Some(_), true) => Incoming::Response,
            _ => invalid(
                &echo(&id),
                "a message needs a \"method\" (request or notification) or an \"id\" with \
                 exactly one of \"result\" and \"error\" (response)",
            ),
        };
    };
    let params = match m.params {
        None => Value::Object(Default::default()),
        Some(Value::Object(params)) => Value::Object(params),
        Some(Value::Array(_)) if id.is_some() => {
            return Incoming::BadParams(error(
                &echo(&id),
                INVALID_PARAMS,
                "MCP takes named parameters: \"params\" must be an object",
            ));
        }
        Some(_) => return invalid(&echo(&id), "\"params\" must be an object when present"),
    };
    match id {
        Some(id) => Incoming::Request { id, method, params },
        None => Incoming::Notification,
    }
}

/// A response as written on the wire; the id is copied verbatim.
#[derive(Serialize)]
struct Outgoing<'a> {
    jsonrpc: &'static str,
    id: &'a RawValue,
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<Value>,
}

fn write(message: &Outgoing<'_>) -> Box<RawValue> {
    serde_json::value::to_raw_value(message).expect("a response always serializes")
}

/// A success response.
pub fn result(id: &RawValue, result: Value) -> Box<RawValue> {
    write(&Outgoing {
        jsonrpc: "2.0",
        id,
        result: Some(result),
        error: None,
    })
}

/// An error response.
pub fn error(id: &RawValue, code: i64, message: &str) -> Box<RawValue> {
    write(&Outgoing {
        jsonrpc: "2.0",
        id,
        result: None,
        error: Some(serde_json::json!({"code": code, "message": message})),
    })
}
