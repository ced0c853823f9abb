//! The little JSON-RPC the bridge speaks itself: which lines are requests (their ids kept
//! byte for byte, as the server echoes them), the errors it answers in the server's stead,
//! and one message per output line.

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

/// JSON-RPC's code for a message that is not JSON.
pub const PARSE_ERROR: i64 = -32700;
/// An implementation-defined server error: the server could not be reached, or refused the
/// request without a JSON-RPC answer (401, 5xx).
pub const SERVER_UNAVAILABLE: i64 = -32000;

/// The fields of a message the bridge looks at.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, default)]
    id: Option<&'a RawValue>,
    #[serde(default)]
    method: Option<String>,
}

/// What the bridge needs to know about one line from the client.
#[derive(Debug)]
pub struct Outgoing {
    /// The ids of the requests in it (none for notifications and responses), as sent.
    pub request_ids: Vec<Box<RawValue>>,
    /// Whether it is an `initialize` request, whose answer carries the session.
    pub is_initialize: bool,
}

/// Reads a line from the client: `Err` with the parser's reason when it is not JSON.
pub fn read(line: &[u8]) -> Result<Outgoing, String> {
    let message: &RawValue = serde_json::from_slice(line).map_err(|e| e.to_string())?;
    let mut out = Outgoing {
        request_ids: Vec::new(),
        is_initialize: false,
    };
    if message.get().starts_with('[') {
        let items: Vec<&RawValue> = serde_json::from_str(message.get()).unwrap_or_default();
        for item in items {
            out.request_ids.extend(request_id(item));
        }
    } else {
        out.request_ids.extend(request_id(message));
        out.is_initialize = serde_json::from_str::<Envelope<'_>>(message.get())
            .is_ok_and(|e| e.method.as_deref() == Some("initialize"));
    }
    Ok(out)
}

/// The id of a request (a message with a method and a non-null id).
fn request_id(message: &RawValue) -> Option<Box<RawValue>> {
    let envelope: Envelope<'_> = serde_json::from_str(message.get()).ok()?;
    envelope.method.as_ref()?;
    envelope.id.map(ToOwned::to_owned)
}

/// An error response for the request `id` (`None`: null), on one line.
pub fn error(id: Option<&RawValue>, code: i64, message: &str, data: Option<Value>) -> String {
    let mut error = json!({"code": code, "message": message});
    if let Some(data) = data {
        error["data"] = data;
    }
    format!(
        r#"{{"jsonrpc":"2.0","id":{},"error":{error}}}"#,
        id.map_or("null", RawValue::get)
    )
}

/// `text` on one line. Line breaks in valid JSON are whitespace between tokens (inside
/// strings they are escaped), so replacing them with spaces keeps the message as it was.
pub fn one_line(text: &str) -> String {
    text.trim().replace(['\r', '\n'], " ")
}

/// Whether `body` is a JSON-RPC message or batch of them (rather than an HTTP error body).
pub fn is_jsonrpc(body: &[u8]) -> bool {
    let is_message = |v: &Value| v.get("jsonrpc").is_some();
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Array(items)) => !items.is_empty() && items.iter().all(is_message),
        Ok(v) => is_message(&v),
        Err(_) => false,
    }
}

/// The protocol version an `initialize` answer settled on.
pub fn negotiated_protocol(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    v["result"]["protocolVersion"].as_str().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_told_from_notifications_and_ids_kept_as_sent() {
        let r = read(
            br#"{"jsonrpc":"2.0","id":18446744073709551616,"method":"initialize","params":{}}"#,
        )
        .unwrap();
        assert!(r.is_initialize);
        assert_eq!(r.request_ids[0].get(), "18446744073709551616");
        let n = read(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).unwrap();
        assert!(n.request_ids.is_empty() && !n.is_initialize);
        let response = read(br#"{"jsonrpc":"2.0","id":3,"result":{}}"#).unwrap();
        assert!(response.request_ids.is_empty());
        let batch = read(br#"[{"jsonrpc":"2.0","id":"a","method":"ping"},{"jsonrpc":"2.0","method":"x"},{"jsonrpc":"2.0","id": 2,"method":"ping"}]"#).unwrap();
        let ids: Vec<&str> = batch.request_ids.iter().map(|i| i.get()).collect();
        assert_eq!(ids, ["\"a\"", "2"]);
        assert!(read(b"{nope").is_err());
    }

    #[test]
    fn errors_and_lines_are_well_formed() {
        let id = RawValue::from_string("7".into()).unwrap();
        let e: Value = serde_json::from_str(&error(
            Some(&id),
            SERVER_UNAVAILABLE,
            "down",
            Some(json!({"status": 503})),
        ))
        .unwrap();
        assert_eq!(
            e,
            json!({"jsonrpc": "2.0", "id": 7, "error": {"code": -32000, "message": "down", "data": {"status": 503}}})
        );
        let e: Value = serde_json::from_str(&error(None, PARSE_ERROR, "bad", None)).unwrap();
        assert_eq!(e["id"], Value::Null);
        assert_eq!(one_line("{\"a\":\n 1}\r\n"), "{\"a\":  1}");
        assert!(is_jsonrpc(br#"{"jsonrpc":"2.0","id":1,"result":{}}"#));
        assert!(is_jsonrpc(br#"[{"jsonrpc":"2.0","id":1,"result":{}}]"#));
        assert!(!is_jsonrpc(
            br#"{"error":{"code":"unauthorized","message":"m"}}"#
        ));
        assert!(!is_jsonrpc(b"<html>"));
        assert_eq!(
            negotiated_protocol(
                br#"{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-06-18"}}"#
            )
            .as_deref(),
            Some("2025-06-18")
        );
    }
}
