//! JSON Schemas of tool arguments, built from the rules that check them (the names rule,
//! blank text, nullable optional arguments), so `tools/list` and the OpenAPI document state
//! exactly what the tools accept and refuse.

use marcus_core::names::{MAX_NAME_LEN, NAME_PATTERN};
use marcus_core::text::not_blank_pattern;
use serde_json::{Value, json};

/// A required id (agent, task, project, blocker): the names rule.
pub fn id() -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": MAX_NAME_LEN, "pattern": NAME_PATTERN})
}

/// An optional id; `null` counts as absent.
pub fn opt_id() -> Value {
    nullable(id())
}

/// Required free text: anything but blank (empty or only white space).
pub fn text() -> Value {
    json!({"type": "string", "minLength": 1, "pattern": not_blank_pattern()})
}

/// Optional free text; `null` counts as absent.
pub fn opt_text() -> Value {
    json!({"type": ["string", "null"]})
}

/// Optional strings: a list, one string (a list of one), or `null`.
pub fn opt_string_list() -> Value {
    json!({"anyOf": [
        {"type": "string"},
        {"type": "array", "items": {"type": "string"}},
        {"type": "null"}
    ]})
}

/// An optional non-negative integer that fits 64 bits; `null` counts as absent.
pub fn opt_count(minimum: u64) -> Value {
    json!({"type": ["integer", "null"], "minimum": minimum, "maximum": u64::MAX})
}

/// One of `names`, or `null` (absent).
pub fn opt_choice(names: &[&str]) -> Value {
    let mut choices: Vec<Value> = names.iter().map(|n| json!(n)).collect();
    choices.push(Value::Null);
    json!({"enum": choices})
}

/// An `anyOf` branch: `field` is present and not `null` (null counts as absent).
pub fn given(field: &str) -> Value {
    json!({"required": [field], "properties": {field: {"not": {"type": "null"}}}})
}

/// `schema` that also accepts `null`.
pub fn nullable(mut schema: Value) -> Value {
    if let Some(Value::String(t)) = schema.get("type").cloned() {
        schema["type"] = json!([t, "null"]);
    }
    schema
}

/// `schema` with a description for people.
pub fn described(mut schema: Value, description: &str) -> Value {
    schema["description"] = json!(description);
    schema
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nullable_keeps_the_constraints() {
        let s = opt_id();
        assert_eq!(s["type"], json!(["string", "null"]));
        assert_eq!(s["pattern"], NAME_PATTERN);
    }
}
