//! Every tool, looked up by name by MCP, the JSON API and the jobs; and the one call path
//! that turns a tool's failure into the wire error.

use super::tool::{Tool, ToolCtx, ToolSpec};
use super::{agents, board_health, knowledge, ping, projects, work};
use marcus_core::api_error::ApiError;
use serde_json::{Map, Value};

/// Runs `tool` with `args` for a caller with the tool's access, through the read cache for
/// the reads it covers. This is where a tool's failure becomes the wire error that the
/// routes and MCP answer with.
pub fn call(tool: &ToolSpec, ctx: &ToolCtx, args: &Map<String, Value>) -> Result<Value, ApiError> {
    let agent_id = args.get("agent_id").and_then(Value::as_str);
    crate::caller::require(tool.access, agent_id)?;
    if let Some(agent) = agent_id
        && tool.name != super::agents::Register::NAME
        && ctx.taken_over.borrow().iter().any(|a| a == agent)
    {
        return Err(super::agent_binding::taken_over(agent));
    }
    let answer = crate::read_cache::through(tool.name, args, || {
        (tool.run)(ctx, args).map_err(ApiError::from)
    });
    if answer.is_ok()
        && tool.renews_holder
        && let Some(Value::String(task_id)) = args.get("task_id")
        && let Some(agent) = agent_id
            .map(str::to_string)
            .or_else(|| ctx.session_agent.borrow().clone())
    {
        super::lease_touch::renew_for_holder(&agent, task_id);
    }
    // Nothing read ahead for this call outlives it.
    crate::read_ahead::forget();
    answer
}

/// Every tool, in the order `tools/list` shows them.
const TOOLS: &[ToolSpec] = &[
    ToolSpec::of::<ping::Ping>(),
    ToolSpec::of::<agents::Register>(),
    ToolSpec::of::<work::RequestNext>(),
    ToolSpec::of::<work::ReportProgress>(),
    ToolSpec::of::<work::ReportBlocker>(),
    ToolSpec::of::<work::ResolveBlocker>(),
    ToolSpec::of::<knowledge::Context>(),
    ToolSpec::of::<knowledge::LogDecision>(),
    ToolSpec::of::<knowledge::LogArtifact>(),
    ToolSpec::of::<projects::CreateProject>(),
    ToolSpec::of::<projects::CreateTasks>(),
    ToolSpec::of::<projects::Status>(),
    ToolSpec::of::<projects::List>(),
    ToolSpec::of::<projects::Select>(),
    ToolSpec::of::<agents::Status>(),
    ToolSpec::of::<agents::List>(),
    ToolSpec::of::<projects::AllTasks>(),
    ToolSpec::of::<knowledge::CheckDependencies>(),
    ToolSpec::of::<work::Unassign>(),
    ToolSpec::of::<board_health::Check>(),
    ToolSpec::of::<board_health::Optimal>(),
];

/// All tools, in the order `tools/list` shows them.
pub fn registry() -> &'static [ToolSpec] {
    TOOLS
}

/// Finds a tool by name.
pub fn find(name: &str) -> Option<&'static ToolSpec> {
    registry().iter().find(|t| t.name == name)
}
