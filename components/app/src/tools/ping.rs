//! `ping`: connectivity and server identity check.

use super::ToolSpec;
use crate::ids::now_ms;
use marcus_core::api_error::ApiError;
use serde_json::{Map, Value, json};

/// The `ping` tool.
pub const SPEC: ToolSpec = ToolSpec {
    name: "ping",
    description: "Check that Marcus is reachable; echoes an optional message.",
    input_schema: || json!({"type": "object", "properties": {"echo": super::arg_schemas::opt_text()}}),
    run,
};

fn run(_ctx: &super::ToolCtx, args: &Map<String, Value>) -> Result<Value, ApiError> {
    let echo = super::args::opt_str(args, "echo")?.unwrap_or_default();
    Ok(json!({
        "success": true,
        "status": "online",
        "service": "marcus",
        "version": env!("CARGO_PKG_VERSION"),
        "echo": echo,
        "timestamp": now_ms(),
    }))
}
