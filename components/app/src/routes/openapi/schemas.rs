//! Shared schemas of the document (`components.schemas`) and references to them.

use marcus_core::names::{DOCUMENT_ID_PATTERN, MAX_NAME_LEN};
use serde_json::{Value, json};

/// `$ref` to the error shape every failure answers with.
pub fn error_ref() -> Value {
    json!({"$ref": "#/components/schemas/Error"})
}

/// `$ref` to a stored document.
pub fn document_ref() -> Value {
    json!({"$ref": "#/components/schemas/StoredDocument"})
}

/// A document id: the names rule, not starting with `_` (reserved for operations).
pub fn document_id() -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": MAX_NAME_LEN, "pattern": DOCUMENT_ID_PATTERN})
}

/// An object with at least `required` keys (each of the given type); others may follow.
pub fn object_with(required: &[(&str, Value)]) -> Value {
    let properties: serde_json::Map<String, Value> = required
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let names: Vec<&str> = required.iter().map(|(k, _)| *k).collect();
    json!({"type": "object", "required": names, "properties": properties})
}

/// A non-negative integer that fits 64 bits.
pub fn count() -> Value {
    json!({"type": "integer", "minimum": 0, "maximum": u64::MAX})
}

/// An integer query parameter from `min` to `max`.
pub fn int_range(min: u64, max: u64) -> Value {
    json!({"type": "integer", "minimum": min, "maximum": max})
}

/// The realtime page: events after `since`, the newest and oldest retained sequence numbers.
pub fn event_page(events: Value) -> Value {
    object_with(&[
        ("events", json!({"type": "array", "items": events})),
        ("latest", count()),
        ("oldest", count()),
    ])
}

/// `components.schemas`.
pub fn components() -> Value {
    json!({
        "Error": {
            "type": "object", "required": ["error"],
            "properties": {"error": {"type": "object", "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "description": "Stable snake_case code to branch on"},
                    "message": {"type": "string", "description": "For people"}
                }}}
        },
        "StoredDocument": {
            "type": "object",
            "required": ["collection", "id", "data", "version", "created_at", "updated_at"],
            "properties": {
                "collection": {"type": "string"},
                "id": {"type": "string"},
                "data": {"description": "The stored JSON value"},
                "version": count(),
                "created_at": count(),
                "updated_at": count()
            }
        }
    })
}
