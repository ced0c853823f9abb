//! `GET /api/tasks/{task_id}/timeline`: a task's progress reports and blockers in time
//! order.

use super::View;
use crate::records::{self, collections};
use crate::tools::{board_reads, parse};
use marcus_core::api_error::ApiError;
use marcus_core::board::model::{Blocker, ProgressEntry};
use marcus_core::board::timeline::timeline;
use serde_json::{Map, Value, json};

/// The timeline view.
pub const VIEW: View = View { run };

fn run(a: &Map<String, Value>) -> Result<Value, ApiError> {
    let task_id = parse::args::<super::TaskPath>(a)?.task_id.0;
    board_reads::task(&task_id)?;
    let by_task = [("task_id", json!(task_id))];
    let progress: Vec<ProgressEntry> =
        records::query_all::<ProgressEntry>(collections::PROGRESS, &by_task)?
            .into_iter()
            .map(|v| v.value)
            .collect();
    let blockers: Vec<Blocker> = records::query_all::<Blocker>(collections::BLOCKERS, &by_task)?
        .into_iter()
        .map(|v| v.value)
        .collect();
    Ok(json!({
        "success": true,
        "task_id": task_id,
        "timeline": timeline(&progress, &blockers),
    }))
}
