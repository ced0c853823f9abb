//! The published schemas: inline, and an MCP output schema that admits failures too.

use super::{input, mcp_output};
use crate::tools::registry;
use serde_json::{Value, json};

#[test]
fn every_tool_schema_is_a_self_contained_object() {
    for tool in registry() {
        for schema in [(tool.input_schema)(), (tool.answer_schema)()] {
            let text = schema.to_string();
            assert!(
                !text.contains("$ref") && !text.contains("$defs"),
                "{}",
                tool.name
            );
        }
        assert_eq!((tool.input_schema)()["type"], "object", "{}", tool.name);
        let output = mcp_output(&(tool.answer_schema)());
        assert_eq!(output["type"], "object", "{}", tool.name);
        assert_eq!(output["required"], json!(["success"]), "{}", tool.name);
        let props = output["properties"].as_object().unwrap();
        for field in ["success", "error", "error_code"] {
            assert!(props.contains_key(field), "{}: {field}", tool.name);
        }
        assert_eq!(output["anyOf"].as_array().map(Vec::len), Some(2));
    }
}

#[test]
fn fields_that_differ_between_answers_accept_either() {
    let answer = json!({"anyOf": [
        {"type": "object", "properties": {"task": {"type": "object"}}},
        {"type": "object", "properties": {"task": {"type": "null"}}}
    ]});
    let output = mcp_output(&answer);
    assert_eq!(
        output["properties"]["task"],
        json!({"anyOf": [{"type": "object"}, {"type": "null"}]})
    );
}

#[test]
fn a_choice_of_names_is_required_by_the_schema() {
    let schema: Value = input::<crate::tools::work::ResolveBlockerArgs>();
    assert_eq!(schema["required"], json!(["resolution"]));
    assert_eq!(schema["anyOf"][0]["required"], json!(["blocker_id"]));
    assert_eq!(schema["anyOf"][1]["required"], json!(["task_id"]));
}
