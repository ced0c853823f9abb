//! The MCP tools: their schemas and annotations for `tools/list` and the dispatch of
//! `tools/call`. Results carry `structuredContent` plus the same JSON as text, as upstream
//! Marcus does.

use super::jsonrpc::INVALID_PARAMS;
use crate::tools::failure::ToolFailure;
use crate::tools::{ToolCtx, ToolSpec, find, registry, schema};
use serde_json::{Map, Value, json};

/// Every tool with its input and output schema and its behaviour hints.
pub fn list() -> Vec<Value> {
    registry()
        .iter()
        .map(|t: &ToolSpec| {
            json!({
                "name": t.name,
                "description": t.description,
                "inputSchema": (t.input_schema)(),
                "outputSchema": schema::mcp_output(&(t.answer_schema)()),
                "annotations": t.hints.annotations(),
            })
        })
        .collect()
}

/// Runs `tools/call`; an unknown tool or malformed call is a JSON-RPC error, a tool's own
/// failure an `isError` result naming what was wrong.
pub fn call(ctx: &ToolCtx, params: &Value) -> Result<Value, (i64, String)> {
    let Some(name) = params.get("name").and_then(Value::as_str) else {
        return Err((INVALID_PARAMS, "tools/call needs a \"name\"".into()));
    };
    let args = match params.get("arguments") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return Err((INVALID_PARAMS, "\"arguments\" must be an object".into())),
    };
    let Some(tool) = find(name) else {
        return Err((INVALID_PARAMS, format!("unknown tool: {name}")));
    };
    Ok(match crate::tools::call(tool, ctx, &args) {
        Ok(value) => {
            let structured = match value {
                Value::Object(_) => value,
                other => json!({"result": other}),
            };
            json!({
                "content": [{"type": "text", "text": structured.to_string()}],
                "structuredContent": structured,
                "isError": false,
            })
        }
        Err(e) => {
            let body = serde_json::to_value(ToolFailure::from(&e)).unwrap_or_default();
            json!({
                "content": [{"type": "text", "text": body.to_string()}],
                "structuredContent": body,
                "isError": true,
            })
        }
    })
}
