//! Recomputes a project's status and health into the read cache after a change that moves
//! them (a task completed, blocked, added or expired), so the next dashboard or agent read
//! is a hit instead of a computation.

use super::queue;
use crate::events::BoardEvent;
use crate::ids::now_ms;
use crate::tools::{self, ToolCtx};
use marcus_core::jobs::Job;
use serde_json::{Map, Value, json};

/// The job kind.
pub const KIND: &str = marcus_core::jobs::kinds::PROJECT_HEALTH;
/// Event kinds after which status and health are recomputed.
const MOVING_EVENTS: &[&str] = &[
    "task_completed",
    "task_blocked",
    "tasks_created",
    "lease_expired",
    "blocker_resolved",
];

/// Queues one recompute per project whose status `events` move (one pending job per project at a
/// time: a recompute already queued covers later changes too).
pub fn schedule_after(events: &[BoardEvent]) {
    let mut projects: Vec<String> = events
        .iter()
        .filter(|e| MOVING_EVENTS.contains(&e.kind.as_str()))
        .filter_map(|e| e.project_id.clone())
        .collect();
    // One job per project, however its events interleave with another project's.
    projects.sort_unstable();
    projects.dedup();
    for project in projects {
        let mut job = Job::new(
            format!("{KIND}-{project}"),
            KIND,
            json!({"project_id": project}),
            3,
            now_ms(),
        );
        job.project_id = Some(project);
        // Best effort: the cache is refilled by the next read anyway.
        let _ = queue::enqueue_once(&job);
    }
}

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
        match crate::read_cache::refresh(tool, project, || (spec.run)(&ToolCtx::default(), &args)) {
            Ok(()) => {}
            // The project was deleted or never existed: nothing to warm.
            Err(e) if e.code == "not_found" => return Ok(json!({"skipped": e.message})),
            Err(e) => return Err(e.message),
        }
    }
    Ok(json!({"project_id": project, "refreshed": ["status", "health"]}))
}
