//! Runs one recompute: computes the project's status and health afresh and stores them as
//! the read cache's current answers.

use crate::board_error::BoardError;
use crate::tools::{self, ToolCtx};
use marcus_core::api_error::ApiError;
use marcus_core::jobs::Job;
use serde_json::{Map, Value, json};

/// Runs one recompute.
pub fn run(job: &Job) -> Result<Value, String> {
    let project = job
        .payload
        .get("project_id")
        .and_then(Value::as_str)
        .ok_or("job payload lacks project_id")?;
    let mut args = Map::new();
    args.insert("project_id".into(), Value::String(project.to_string()));
    for tool in ["get_project_status", "check_board_health"] {
        let spec = tools::find(tool).ok_or_else(|| format!("no tool {tool}"))?;
        crate::read_cache::forget_changes();
        let result = (spec.run)(&ToolCtx::default(), &args);
        crate::read_cache::refresh(tool, project, &result.clone().map_err(ApiError::from));
        match result {
            Ok(_) => {}
            // The project was deleted or never existed: nothing to warm.
            Err(BoardError::NotFound(_, message)) => return Ok(json!({"skipped": message})),
            Err(e) => return Err(ApiError::from(e).message),
        }
    }
    Ok(json!({"project_id": project, "refreshed": ["status", "health"]}))
}
