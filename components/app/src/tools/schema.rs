//! JSON Schemas derived from the tools' argument and answer types, in the form both MCP and
//! the OpenAPI document embed: every subschema inline (no `$defs` to resolve), no `$schema`
//! or type titles.

#[cfg(test)]
mod tests;

use super::failure::ToolFailure;
use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema};
use serde_json::{Map, Value, json};

fn settings() -> SchemaSettings {
    SchemaSettings::draft2020_12().with(|s| {
        s.inline_subschemas = true;
        s.meta_schema = None;
    })
}

fn tidy(schema: Schema) -> Value {
    let mut v = schema.to_value();
    if let Some(o) = v.as_object_mut() {
        o.remove("title");
        o.remove("description");
    }
    v
}

/// The schema of arguments of type `T`, as they are read.
pub fn input<T: JsonSchema>() -> Value {
    tidy(
        settings()
            .for_deserialize()
            .into_generator()
            .into_root_schema_for::<T>(),
    )
}

/// The schema of answers of type `T`, as they are written.
pub fn answer<T: JsonSchema>() -> Value {
    tidy(
        settings()
            .for_serialize()
            .into_generator()
            .into_root_schema_for::<T>(),
    )
}

/// The MCP `outputSchema` for a tool whose answers follow `answer`: an object that is the
/// answer or a [`ToolFailure`] (MCP clients validate failed results too). Its `properties`
/// list every field either can have, so clients that read only those see them all.
pub fn mcp_output(answer: &Value) -> Value {
    let failure = self::answer::<ToolFailure>();
    let mut properties = Map::new();
    for branch in branches(answer).into_iter().chain([&failure]) {
        let Some(props) = branch.get("properties").and_then(Value::as_object) else {
            continue;
        };
        for (name, schema) in props {
            match properties.get_mut(name) {
                None => {
                    properties.insert(name.clone(), schema.clone());
                }
                Some(seen) if seen == schema => {}
                Some(seen) => {
                    let mut options = match seen.get("anyOf") {
                        Some(Value::Array(a)) if seen.as_object().is_some_and(|o| o.len() == 1) => {
                            a.clone()
                        }
                        _ => vec![seen.clone()],
                    };
                    if !options.contains(schema) {
                        options.push(schema.clone());
                    }
                    *seen = json!({"anyOf": options});
                }
            }
        }
    }
    json!({
        "type": "object",
        "properties": properties,
        "required": ["success"],
        "anyOf": [answer, failure],
    })
}

/// The object schemas an answer can take: itself, or each of its `anyOf` branches.
fn branches(answer: &Value) -> Vec<&Value> {
    match answer.get("anyOf").and_then(Value::as_array) {
        Some(options) => options.iter().collect(),
        None => vec![answer],
    }
}

/// Adds to an object schema the rule that at least one of `fields` is given (present and
/// not `null`), for arguments that may name a thing in more than one way.
pub fn require_one_of(schema: &mut Schema, fields: &[&str]) {
    let options: Vec<Value> = fields
        .iter()
        .map(|f| json!({"required": [f], "properties": {*f: {"not": {"type": "null"}}}}))
        .collect();
    schema.insert("anyOf".into(), Value::Array(options));
}
