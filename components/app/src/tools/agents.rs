//! Agent tools: `register_agent`, `get_agent_status`, `list_registered_agents`.

use super::board_reads;
use super::fields::{Id, IdRef, Str, StrList, Text};
use super::hints::Hints;
use super::tool::{Tool, ToolCtx};
use crate::board_error::BoardError;
use crate::events::BoardEvent;
use crate::ids::now_ms;
use crate::records::{self, Change, collections::AGENTS};
use crate::unit_of_work;
use marcus_core::board::handoff;
use marcus_core::board::model::{Agent, AgentStatus, Task};
use marcus_core::board::workload::{self, AgentView};
use marcus_core::names::check_name;
use marcus_identity::access::Access;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

#[cfg(test)]
mod tests;

/// `register_agent(agent_id, name, role, skills, project_id?)`.
pub struct Register;

/// Who the agent is and what it can do.
#[derive(Deserialize, JsonSchema)]
pub struct RegisterArgs {
    /// Unique id chosen by the agent.
    agent_id: Id,
    /// Display name.
    name: Text,
    /// e.g. Backend Developer.
    role: Option<Str>,
    /// Matched against task labels.
    #[serde(default)]
    skills: StrList,
    /// Default project for this agent.
    project_id: Option<IdRef>,
    /// Take the agent id over from another MCP session that used it within the lease
    /// period (that session can then no longer act as this agent).
    #[serde(default)]
    takeover: bool,
}

/// The agent as registered.
#[derive(Serialize, JsonSchema)]
pub struct RegisterAnswer {
    success: bool,
    /// For people.
    message: String,
    /// The agent's id.
    agent_id: String,
    /// The agent's default project (`null` without one).
    project_id: Option<String>,
    /// The stored agent, its status derived from its lease.
    agent: AgentView,
}

impl Tool for Register {
    const NAME: &'static str = "register_agent";
    const DESCRIPTION: &'static str =
        "Register an agent (or update its name, role, skills). Call once before requesting tasks.";
    // Registering again replaces the agent's name, role and skills with the same values.
    const HINTS: Hints = Hints::write(true, true);
    const ACCESS: Access = Access::ActAsAgent;
    type Args = RegisterArgs;
    type Answer = RegisterAnswer;

    fn run(ctx: &ToolCtx, a: RegisterArgs) -> Result<RegisterAnswer, BoardError> {
        let agent_id = a.agent_id.0;
        check_name("agent_id", &agent_id)?;
        let name = a.name.0;
        let role = a.role.map(|r| r.0).unwrap_or_default();
        let skills = a.skills.0;
        let project_id = a.project_id.map(|p| p.0);
        if let Some(p) = &project_id {
            board_reads::project(p)?;
        }
        super::agent_binding::bind(ctx, &agent_id, a.takeover)?;
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
                    assigned_tasks_count: 0,
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
        let agent = board_reads::agents_now(vec![agent], now)?.remove(0);
        Ok(RegisterAnswer {
            success: true,
            message: format!("Agent {} registered successfully", agent.agent.name),
            agent_id: agent.agent.id.clone(),
            project_id: agent.agent.project_id.clone(),
            agent,
        })
    }
}

/// `get_agent_status(agent_id)`.
pub struct Status;

/// Which agent.
#[derive(Deserialize, JsonSchema)]
pub struct AgentArgs {
    /// The agent's id.
    agent_id: Id,
}

/// An agent and the task it holds.
#[derive(Serialize, JsonSchema)]
pub struct StatusAnswer {
    success: bool,
    /// The agent, its status derived from its lease at the time of the read.
    agent: AgentView,
    /// The task it holds under a live lease, if any.
    current_task: Option<Task>,
    /// That task as upstream describes an assignment; absent while the agent holds none.
    #[serde(skip_serializing_if = "Option::is_none")]
    current_assignment: Option<Assignment>,
}

/// The task an agent holds, by upstream's names.
#[derive(Serialize, JsonSchema)]
pub struct Assignment {
    /// The task's id.
    task_id: String,
    /// Its name.
    task_name: String,
    /// When the agent's lease on it began, milliseconds since the Unix epoch.
    assigned_at: u64,
    /// What to do, as the agent was told.
    instructions: String,
}

impl Tool for Status {
    const NAME: &'static str = "get_agent_status";
    const DESCRIPTION: &'static str = "An agent's status, current task and completed count.";
    const HINTS: Hints = Hints::READ;
    const ACCESS: Access = Access::Read;
    type Args = AgentArgs;
    type Answer = StatusAnswer;

    fn run(_ctx: &ToolCtx, a: AgentArgs) -> Result<StatusAnswer, BoardError> {
        let agent = board_reads::agent(&a.agent_id.0)?.value;
        let held = match &agent.current_task_id {
            Some(t) => records::get::<Task>(records::collections::TASKS, t)?.map(|v| v.value),
            None => None,
        };
        let agent = workload::view(&agent, held.as_ref(), now_ms());
        let current_task = held.filter(|_| agent.agent.status == AgentStatus::Working);
        let current_assignment = current_task.as_ref().map(|t| Assignment {
            task_id: t.id.clone(),
            task_name: t.name.clone(),
            assigned_at: t.lease.as_ref().map_or(t.updated_at, |l| l.granted_at),
            instructions: handoff::instructions(t, t.dependencies.len()),
        });
        Ok(StatusAnswer {
            success: true,
            agent,
            current_task,
            current_assignment,
        })
    }
}

/// `list_registered_agents(project_id?)`.
pub struct List;

/// Which agents.
#[derive(Deserialize, JsonSchema)]
pub struct ListArgs {
    /// Only agents whose default project this is.
    project_id: Option<Str>,
}

/// Registered agents.
#[derive(Serialize, JsonSchema)]
pub struct ListAnswer {
    success: bool,
    /// The agents, by id, each one's status derived from its lease at the time of the read.
    agents: Vec<AgentView>,
    /// How many.
    count: usize,
    /// How many (upstream's name).
    total: usize,
}

impl Tool for List {
    const NAME: &'static str = "list_registered_agents";
    const DESCRIPTION: &'static str =
        "Every registered agent with its skills, status and current task.";
    const HINTS: Hints = Hints::READ;
    const ACCESS: Access = Access::Read;
    type Args = ListArgs;
    type Answer = ListAnswer;

    fn run(_ctx: &ToolCtx, a: ListArgs) -> Result<ListAnswer, BoardError> {
        let project = a.project_id.map(|p| p.0);
        let agents: Vec<Agent> = records::query_all::<Agent>(AGENTS, &[])?
            .into_iter()
            .map(|v| v.value)
            .filter(|ag| project.is_none() || ag.project_id == project)
            .collect();
        let agents = board_reads::agents_now(agents, now_ms())?;
        Ok(ListAnswer {
            success: true,
            count: agents.len(),
            total: agents.len(),
            agents,
        })
    }
}
