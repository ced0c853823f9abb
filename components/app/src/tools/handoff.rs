//! Reads for what a task's holder is handed with it ([`marcus_core::board::handoff`]): its
//! direct dependencies with their artifacts and decisions, in the one platform call that
//! reading the dependencies takes anyway (none for a task without dependencies).

use super::board_reads;
use crate::board_error::BoardError;
use crate::read_ahead;
use crate::records::{self, collections};
use marcus_core::board::handoff::{self, Handoff};
use marcus_core::board::model::{Artifact, Decision, Task};
use serde_json::json;

/// `task` with its project's name, read for a task stored before tasks carried it.
pub fn named(task: &Task) -> Result<Task, BoardError> {
    let mut task = task.clone();
    if task.project_name.is_empty() {
        task.project_name = board_reads::project(&task.project_id)?.value.name;
    }
    Ok(task)
}

/// `task`'s direct dependencies that exist, and its hand-off from them.
pub fn read(task: &Task) -> Result<(Vec<Task>, Handoff), BoardError> {
    let ids = &task.dependencies;
    if ids.is_empty() {
        return Ok((Vec::new(), handoff::handoff(task, &[], &[], &[])));
    }
    let by_task = |id: &str| [("task_id", json!(id))];
    let mut reads: Vec<_> = ids
        .iter()
        .map(|id| read_ahead::get(collections::TASKS, id))
        .collect();
    for id in ids {
        reads.push(read_ahead::query(collections::ARTIFACTS, &by_task(id)));
        reads.push(read_ahead::query(collections::DECISIONS, &by_task(id)));
    }
    read_ahead::read(reads)?;
    let dependencies: Vec<Task> = records::get_many::<Task>(collections::TASKS, ids)?
        .into_iter()
        .flatten()
        .map(|v| v.value)
        .collect();
    let mut artifacts: Vec<Artifact> = Vec::new();
    let mut decisions: Vec<Decision> = Vec::new();
    for id in ids {
        artifacts.extend(
            records::query_all::<Artifact>(collections::ARTIFACTS, &by_task(id))?
                .into_iter()
                .map(|v| v.value),
        );
        decisions.extend(
            records::query_all::<Decision>(collections::DECISIONS, &by_task(id))?
                .into_iter()
                .map(|v| v.value),
        );
    }
    let handoff = handoff::handoff(task, &dependencies, &artifacts, &decisions);
    Ok((dependencies, handoff))
}
