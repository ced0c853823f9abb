//! The stored job queue: jobs are documents in the `jobs` collection, and every state change
//! is a compare-and-swap on the version read, so when several runners (hosts, or the Spin
//! worker) look at the same due job, exactly one claim succeeds.

use crate::board_error::BoardError;
use crate::records::{self, Change, Versioned, collections};
use crate::unit_of_work;
use marcus_core::api_error::ApiError;
use marcus_core::jobs::{Job, JobStatus};
use serde_json::json;

/// Due jobs, the longest-waiting first, at most `limit`.
pub fn due(now: u64, limit: usize) -> Result<Vec<Versioned<Job>>, ApiError> {
    let mut due: Vec<Versioned<Job>> = Vec::new();
    for status in [JobStatus::Queued, JobStatus::Running] {
        let jobs =
            records::query_all::<Job>(collections::JOBS, &[("status", json!(status.as_str()))])?;
        due.extend(jobs.into_iter().filter(|j| j.value.is_due(now)));
    }
    due.sort_by_key(|j| (j.value.run_at, j.value.id.clone()));
    due.truncate(limit);
    Ok(due)
}

/// Claims `job` for this runner; `None` when another runner changed it first.
pub fn claim(job: &Versioned<Job>, now: u64) -> Result<Option<Versioned<Job>>, ApiError> {
    let claimed = job.value.claimed(now);
    swap(job.version, claimed)
}

/// Replaces a job read at `version` with `next`; `None` when it changed in between.
pub fn swap(version: u64, next: Job) -> Result<Option<Versioned<Job>>, ApiError> {
    let change = Change::update(collections::JOBS, &next.id, &next, version)?;
    match unit_of_work::commit(vec![change]) {
        Ok(()) => Ok(Some(Versioned {
            version: version + 1,
            value: next,
        })),
        Err(BoardError::Conflict(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Adds a job unless one with its id exists (singleton jobs use fixed ids); answers whether
/// it was added.
pub fn enqueue_once(job: &Job) -> Result<bool, ApiError> {
    match unit_of_work::commit(vec![Change::create(collections::JOBS, &job.id, job)?]) {
        Ok(()) => Ok(true),
        Err(BoardError::Conflict(_)) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Removes a finished job held at `version` (the delivery log keeps its history).
pub fn remove(job: &Versioned<Job>) -> Result<(), ApiError> {
    match records::delete(collections::JOBS, &job.value.id, Some(job.version)) {
        Ok(_) => Ok(()),
        Err(BoardError::Conflict(_)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
