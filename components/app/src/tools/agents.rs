//! Agent tools: `register_agent`, `get_agent_status`, `list_registered_agents`.

use super::arg_schemas::{described, id, opt_id, opt_string_list, opt_text, text};
use super::{ToolCtx, ToolSpec, args};
use crate::events::BoardEvent;
use crate::ids::now_ms;
use crate::records::{self, Change, Versioned, collections::AGENTS};
use crate::unit_of_work;
use marcus_core::api_error::ApiError;
use marcus_core::board::model::{Agent, Task};
use marcus_core::names::check_name;
use serde_json::{Map, Value, json};

/// `register_agent(agent_id, name, role, skills, project_id?)`.
pub const REGISTER: ToolSpec = ToolSpec {
    name: "register_agent",
    description: "Register an agent (or update its name, role, skills). Call once before requesting tasks.",
    input_schema: || {
        json!({"type": "object", "required": ["agent_id", "name"], "properties": {
            "agent_id": described(id(), "Unique id chosen by the agent"),
            "name": text(),
            "role": described(opt_text(), "e.g. Backend Developer"),
            "skills": opt_string_list(),
            "project_id": described(opt_id(), "Default project for this agent")
        }})
    },
    run: register,
};

/// `get_agent_status(agent_id)`.
pub const STATUS: ToolSpec = ToolSpec {
    name: "get_agent_status",
    description: "An agent's status, current task and completed count.",
    input_schema: || json!({"type": "object", "required": ["agent_id"], "properties": {"agent_id": id()}}),
    run: status,
};

/// `list_registered_agents()`.
pub const LIST: ToolSpec = ToolSpec {
    name: "list_registered_agents",
    description: "Every registered agent with its skills, status and current task.",
    input_schema: || json!({"type": "object", "properties": {"project_id": described(opt_text(), "Only agents whose default project this is")}}),
    run: list,
};

/// Loads a registered agent or fails with `agent_not_found`.
pub fn load(agent_id: &str) -> Result<Versioned<Agent>, ApiError> {
    records::get::<Agent>(AGENTS, agent_id)?.ok_or_else(|| not_found(agent_id))
}

/// The error for an agent that is not registered.
pub fn not_found(agent_id: &str) -> ApiError {
    ApiError::new(
        404,
        "agent_not_found",
        format!("agent {agent_id} is not registered; call register_agent first"),
    )
}

fn register(_ctx: &ToolCtx, a: &Map<String, Value>) -> Result<Value, ApiError> {
    let agent_id = args::req_str(a, "agent_id")?;
    check_name("agent_id", &agent_id)?;
    let name = args::req_str(a, "name")?;
    let role = args::opt_str(a, "role")?.unwrap_or_default();
    let skills = args::opt_str_list(a, "skills")?;
    let project_id = args::opt_str(a, "project_id")?;
    if let Some(p) = &project_id {
        super::projects::load(p)?;
    }
    let now = now_ms();
    let existing = records::get::<Agent>(AGENTS, &agent_id)?;
    let (agent, change) = match existing {
        Some(v) => {
            let mut agent = v.value;
            agent.name = name;
            agent.role = role;
            agent.skills = skills;
            if project_id.is_some() {
                agent.project_id = project_id;
            }
            agent.last_seen = now;
            let change = Change::update(AGENTS, &agent_id, &agent, v.version)?;
            (agent, change)
        }
        None => {
            let agent = Agent {
                id: agent_id.clone(),
                name,
                role,
                skills,
                project_id,
                status: Default::default(),
                current_task_id: None,
                completed_tasks_count: 0,
                registered_at: now,
                last_seen: now,
            };
            let change = Change::create(AGENTS, &agent_id, &agent)?;
            (agent, change)
        }
    };
    let event = BoardEvent::new(
        "agent_registered",
        agent.project_id.as_deref(),
        Some(&agent_id),
        None,
        json!({"name": agent.name, "role": agent.role, "skills": agent.skills}),
    );
    unit_of_work::commit_and_announce(vec![change], &event)?;
    Ok(json!({
        "success": true,
        "message": format!("Agent {} registered successfully", agent.name),
        "agent_id": agent.id,
        "agent": agent,
    }))
}

fn status(_ctx: &ToolCtx, a: &Map<String, Value>) -> Result<Value, ApiError> {
    let agent_id = args::req_str(a, "agent_id")?;
    let agent = load(&agent_id)?.value;
    let current_task = match &agent.current_task_id {
        Some(t) => records::get::<Task>(records::collections::TASKS, t)?.map(|v| v.value),
        None => None,
    };
    Ok(json!({"success": true, "agent": agent, "current_task": current_task}))
}

fn list(_ctx: &ToolCtx, a: &Map<String, Value>) -> Result<Value, ApiError> {
    let project = args::opt_str(a, "project_id")?;
    let agents: Vec<Agent> = records::query_all::<Agent>(AGENTS, &[])?
        .into_iter()
        .map(|v| v.value)
        .filter(|ag| project.is_none() || ag.project_id == project)
        .collect();
    Ok(json!({"success": true, "agents": agents, "count": agents.len()}))
}
