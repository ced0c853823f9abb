//! Which recomputes a board write owes: one per project whose status its events move,
//! written in the write's own atomic change.

use super::KIND;
use crate::bindings::storage::Expect;
use crate::events::BoardEvent;
use crate::ids::now_ms;
use crate::records::{Change, collections};
use marcus_core::api_error::ApiError;
use marcus_core::jobs::Job;
use serde_json::json;

/// Event kinds after which status and health are recomputed.
const MOVING_EVENTS: &[&str] = &[
    "task_completed",
    "task_blocked",
    "tasks_created",
    "lease_expired",
    "blocker_resolved",
];

/// The recompute job for each project whose status `events` move, one per project under a
/// fixed id. It is written whatever stands there, so it can never make the write fail: a
/// pending recompute is queued again (the same work, still to do); a running one is
/// overtaken, its runner's finishing compare-and-swap fails harmlessly and the recompute
/// runs again, as it should since the board changed after it started; a dead one gets
/// fresh attempts.
pub fn recomputes_for(events: &[BoardEvent]) -> Result<Vec<Change>, ApiError> {
    let mut projects: Vec<String> = events
        .iter()
        .filter(|e| MOVING_EVENTS.contains(&e.kind.as_str()))
        .filter_map(|e| e.project_id.clone())
        .collect();
    // One job per project, however its events interleave with another project's, and in
    // one order, so concurrent writes take the job records' locks alike.
    projects.sort_unstable();
    projects.dedup();
    let now = now_ms();
    projects
        .into_iter()
        .map(|project| {
            let mut job = Job::new(
                format!("{KIND}-{project}"),
                KIND,
                json!({"project_id": project}),
                3,
                now,
            );
            job.project_id = Some(project);
            Change::put(collections::JOBS, &job.id, &job, Expect::Any)
        })
        .collect()
}
