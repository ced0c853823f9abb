//! Reads of the board's records that many tools share: a project, an agent, a task (each
//! failing with its own not-found error) and a project's tasks. They sit apart from the tools
//! so that no tool needs another tool's module to read what it works on.

use crate::board_error::{BoardError, Missing};
use crate::records::{self, Versioned, collections};
use marcus_core::board::model::{Agent, AgentStatus, Project, Task};
use marcus_core::board::workload::{self, AgentView};
use serde_json::json;

/// Loads a project or fails with `project_not_found`.
pub fn project(project_id: &str) -> Result<Versioned<Project>, BoardError> {
    records::get::<Project>(collections::PROJECTS, project_id)?.ok_or_else(|| {
        BoardError::not_found(
            Missing::Project,
            format!("project {project_id} does not exist"),
        )
    })
}

/// Every task of a project.
pub fn tasks_of(project_id: &str) -> Result<Vec<Versioned<Task>>, BoardError> {
    Ok(records::query_all::<Task>(
        collections::TASKS,
        &[("project_id", json!(project_id))],
    )?)
}

/// Loads a registered agent or fails with `agent_not_found`.
pub fn agent(agent_id: &str) -> Result<Versioned<Agent>, BoardError> {
    records::get::<Agent>(collections::AGENTS, agent_id)?.ok_or_else(|| agent_not_found(agent_id))
}

/// The error for an agent that is not registered.
pub fn agent_not_found(agent_id: &str) -> BoardError {
    BoardError::not_found(
        Missing::Agent,
        format!("agent {agent_id} is not registered; call register_agent first"),
    )
}

/// Loads a task or fails with `task_not_found`.
pub fn task(task_id: &str) -> Result<Versioned<Task>, BoardError> {
    records::get::<Task>(collections::TASKS, task_id)?.ok_or_else(|| task_not_found(task_id))
}

/// The error for a task that does not exist.
pub fn task_not_found(task_id: &str) -> BoardError {
    BoardError::not_found(Missing::Task, format!("task {task_id} does not exist"))
}

/// `agents` as they stand at `now`: each one's status derived from the lease on its current
/// task ([`workload::view`]), those tasks read in one call.
pub fn agents_now(agents: Vec<Agent>, now: u64) -> Result<Vec<AgentView>, BoardError> {
    let current: Vec<String> = agents
        .iter()
        .filter_map(|a| a.current_task_id.clone())
        .collect();
    let held: Vec<Task> = records::get_many::<Task>(collections::TASKS, &current)?
        .into_iter()
        .flatten()
        .map(|v| v.value)
        .collect();
    Ok(agents
        .iter()
        .map(|a| {
            let task = a
                .current_task_id
                .as_deref()
                .and_then(|id| held.iter().find(|t| t.id == id));
            let view = workload::view(a, task, now);
            if let Some(lease) = task.and_then(|t| t.lease.as_ref())
                && view.agent.status == AgentStatus::Working
            {
                // The agent is working until then; a cached answer must not outlive it.
                crate::read_cache::changes_at(lease.expires_at);
            }
            view
        })
        .collect())
}
