//! The lease-expiry sweep: returns every task whose lease ran out to the pool and records a
//! `lease_expired` event with the recovery note, so people and agents learn of it when it
//! happens rather than at the next claim. It also removes MCP sessions that stayed idle
//! past their expiry, which nobody would otherwise ask about again.

use crate::board_error::BoardError;
use crate::events::BoardEvent;
use crate::ids::now_ms;
use crate::records::{self, Change, collections};
use crate::unit_of_work;
use marcus_core::api_error::ApiError;
use marcus_core::board::lease;
use marcus_core::board::model::Task;
use serde_json::{Value, json};

/// The job's name in `POST /api/jobs/{name}` and its kind in the queue.
pub const NAME: &str = marcus_core::jobs::kinds::LEASE_SWEEP;
/// The job kind the runner dispatches on.
pub const KIND: &str = NAME;

/// Expires due leases; answers how many tasks were checked and expired.
pub fn run() -> Result<Value, ApiError> {
    let now = now_ms();
    let held = records::query_all::<Task>(collections::TASKS, &[("status", json!("in_progress"))])?;
    let mut expired = Vec::new();
    for task in &held {
        let Some(returned) = lease::expire_if_due(&task.value, now) else {
            continue;
        };
        let holder = task.value.lease.as_ref().map(|l| l.agent_id.clone());
        let event = BoardEvent::new(
            "lease_expired",
            Some(&task.value.project_id),
            holder.as_deref(),
            Some(&task.value.id),
            json!({"recovery_note": returned.recovery_note, "by": NAME}),
        );
        let change = Change::update(collections::TASKS, &task.value.id, &returned, task.version)?;
        match unit_of_work::commit_and_announce(vec![change], &event) {
            Ok(()) => expired.push(task.value.id.clone()),
            // Claimed, renewed or swept elsewhere in the meantime: nothing to do.
            Err(BoardError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let sessions_ended = crate::mcp::session::forget_idle(now)?;
    Ok(
        json!({"job": NAME, "checked": held.len(), "expired": expired, "sessions_ended": sessions_ended}),
    )
}
