//! `GET /api/projects/{project_id}/analytics`: projected completion, tasks at risk and the
//! burndown of a project.

use super::View;
use crate::ids::now_ms;
use crate::tools::{board_reads, parse};
use marcus_core::api_error::ApiError;
use marcus_core::board::burndown::burndown;
use marcus_core::board::forecast::forecast;
use marcus_core::board::model::Task;
use marcus_core::board::risk::at_risk;
use serde_json::{Map, Value, json};

/// The analytics view.
pub const VIEW: View = View { run };

fn run(a: &Map<String, Value>) -> Result<Value, ApiError> {
    let project_id = parse::args::<super::ProjectPath>(a)?.project_id.0;
    board_reads::project(&project_id)?;
    let tasks: Vec<Task> = board_reads::tasks_of(&project_id)?
        .into_iter()
        .map(|v| v.value)
        .collect();
    let now = now_ms();
    Ok(json!({
        "success": true,
        "project_id": project_id,
        "generated_at": now,
        "forecast": forecast(&tasks, now),
        "at_risk": at_risk(&tasks, now),
        "burndown": burndown(&tasks, now),
    }))
}
