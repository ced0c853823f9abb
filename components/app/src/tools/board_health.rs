//! Health tools: `check_board_health`, `get_optimal_agent_count`.

use super::arg_schemas::opt_id;
use super::{ToolCtx, ToolSpec, scope};
use crate::ids::now_ms;
use crate::records::{self, collections};
use marcus_core::api_error::ApiError;
use marcus_core::board::health;
use marcus_core::board::model::{Agent, Task};
use serde_json::{Map, Value, json};

/// `check_board_health(project_id?)`.
pub const CHECK: ToolSpec = ToolSpec {
    name: "check_board_health",
    description: "Board problems (cycles, bottlenecks, long chains, stale leases, skill mismatch, idle or overloaded agents, gridlock) with a 0-100 score.",
    input_schema: || json!({"type": "object", "properties": {"project_id": opt_id()}}),
    run: check,
};

/// `get_optimal_agent_count(project_id?)`.
pub const OPTIMAL: ToolSpec = ToolSpec {
    name: "get_optimal_agent_count",
    description: "How many agents this project can use, by the critical-path method.",
    input_schema: || json!({"type": "object", "properties": {"project_id": opt_id()}}),
    run: optimal,
};

fn check(ctx: &ToolCtx, a: &Map<String, Value>) -> Result<Value, ApiError> {
    let project_id = scope::project_id(ctx, a, None)?;
    let tasks: Vec<Task> = super::projects::tasks_of(&project_id)?
        .into_iter()
        .map(|v| v.value)
        .collect();
    let agents: Vec<Agent> = records::query_all::<Agent>(collections::AGENTS, &[])?
        .into_iter()
        .map(|v| v.value)
        .filter(|ag| ag.project_id.as_deref().is_none_or(|p| p == project_id))
        .collect();
    let report = health::board_health(&tasks, &agents, now_ms());
    Ok(json!({"success": true, "project_id": project_id, "health": report}))
}

fn optimal(ctx: &ToolCtx, a: &Map<String, Value>) -> Result<Value, ApiError> {
    let project_id = scope::project_id(ctx, a, None)?;
    let tasks: Vec<Task> = super::projects::tasks_of(&project_id)?
        .into_iter()
        .map(|v| v.value)
        .collect();
    let result = health::optimal_agent_count(&tasks);
    Ok(json!({"success": true, "project_id": project_id, "analysis": result}))
}
