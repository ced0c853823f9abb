//! Reads of the board's records that many tools share: a project, an agent, a task (each
//! failing with its own not-found error) and a project's tasks. They sit apart from the tools
//! so that no tool needs another tool's module to read what it works on.

use crate::board_error::{BoardError, Missing};
use crate::records::{self, Versioned, collections};
use marcus_core::board::model::{Agent, Project, Task};
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
