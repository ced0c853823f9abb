//! Recomputes a project's status and health into the read cache after a change that moves
//! them (a task completed, blocked, added or expired), so the next dashboard or agent read
//! is a hit instead of a computation. Scheduling is a write effect (it joins the board
//! write that owes it); running is the job handler's, apart so that writing never depends
//! on the tools the recompute runs.

pub mod recompute;
pub mod schedule;

/// The job kind.
pub const KIND: &str = marcus_core::jobs::kinds::PROJECT_HEALTH;
