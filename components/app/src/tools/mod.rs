//! Board operations, shared by the MCP tools and the JSON API: one function per tool,
//! taking the tool's JSON arguments and returning its JSON result.

pub mod agents;
pub mod arg_schemas;
pub mod args;
pub mod board_health;
pub mod knowledge;
pub mod output_schemas;
mod ping;
pub mod projects;
pub mod scope;
pub mod work;

use marcus_core::api_error::ApiError;
use serde_json::{Map, Value};

/// Who is calling: the MCP session (if any), for session-scoped defaults such as the
/// project chosen with `select_project`.
#[derive(Debug, Clone, Default)]
pub struct ToolCtx {
    /// MCP session id, when called over MCP with a session.
    pub session_id: Option<String>,
}

/// A tool: name, description, argument schema and implementation.
pub struct ToolSpec {
    /// Upstream Marcus's tool name.
    pub name: &'static str,
    /// What it is for, shown to agents.
    pub description: &'static str,
    /// JSON Schema of the arguments.
    pub input_schema: fn() -> Value,
    /// The operation.
    pub run: fn(&ToolCtx, &Map<String, Value>) -> Result<Value, ApiError>,
}

/// Runs `tool` with `args`, through the read cache for the reads it covers.
pub fn call(tool: &ToolSpec, ctx: &ToolCtx, args: &Map<String, Value>) -> Result<Value, ApiError> {
    crate::read_cache::through(tool.name, args, || (tool.run)(ctx, args))
}

/// All tools, in the order `tools/list` shows them.
pub fn registry() -> &'static [ToolSpec] {
    &[
        ping::SPEC,
        agents::REGISTER,
        work::REQUEST_NEXT,
        work::REPORT_PROGRESS,
        work::REPORT_BLOCKER,
        work::RESOLVE_BLOCKER,
        knowledge::CONTEXT,
        knowledge::LOG_DECISION,
        knowledge::LOG_ARTIFACT,
        projects::CREATE_PROJECT,
        projects::CREATE_TASKS,
        projects::STATUS,
        projects::LIST,
        projects::SELECT,
        agents::STATUS,
        agents::LIST,
        projects::ALL_TASKS,
        knowledge::CHECK_DEPENDENCIES,
        work::UNASSIGN,
        board_health::CHECK,
        board_health::OPTIMAL,
    ]
}

/// Finds a tool by name.
pub fn find(name: &str) -> Option<&'static ToolSpec> {
    registry().iter().find(|t| t.name == name)
}
