//! `GET /api/projects/{project_id}/queue`: the project's task queue.

use super::View;
use crate::ids::now_ms;
use crate::records::{self, collections};
use crate::tools::{board_reads, parse};
use marcus_core::api_error::ApiError;
use marcus_core::board::model::{Blocker, Task};
use marcus_core::board::queue::task_queue;
use serde_json::{Map, Value, json};

/// The queue view.
pub const VIEW: View = View { run };

fn run(a: &Map<String, Value>) -> Result<Value, ApiError> {
    let project_id = parse::args::<super::ProjectPath>(a)?.project_id.0;
    board_reads::project(&project_id)?;
    let tasks: Vec<Task> = board_reads::tasks_of(&project_id)?
        .into_iter()
        .map(|v| v.value)
        .collect();
    let blockers: Vec<Blocker> =
        records::query_all::<Blocker>(collections::BLOCKERS, &[("project_id", json!(project_id))])?
            .into_iter()
            .map(|v| v.value)
            .collect();
    let now = now_ms();
    Ok(json!({
        "success": true,
        "project_id": project_id,
        "generated_at": now,
        "queue": task_queue(&tasks, &blockers, now),
    }))
}
