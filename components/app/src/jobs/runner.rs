//! Runs due jobs: claim by compare-and-swap, run the handler, then record success (remove,
//! or requeue a periodic job) or failure (requeue with backoff and jitter, or dead letter).
//! A runner that dies mid-job leaves a claim that runs out, and the job runs again
//! (at-least-once); handlers are idempotent for that reason.

use super::{lease_sweep, project_health, queue, webhook_delivery};
use crate::ids::now_ms;
use crate::records::Versioned;
use marcus_core::api_error::ApiError;
use marcus_core::jobs::{Job, JobStatus, kinds};
use serde_json::{Value, json};

/// Id of the periodic lease-expiry sweep: one per board, shared by every runner.
pub const LEASE_SWEEP_ID: &str = "periodic-lease-sweep";

/// Runs up to `limit` due jobs. With `sweep_every_ms`, makes sure the periodic lease sweep
/// is scheduled at that period. Answers per job what happened, for the caller's metrics.
pub fn run_due(limit: usize, sweep_every_ms: Option<u64>) -> Result<Value, ApiError> {
    if let Some(every) = sweep_every_ms {
        schedule_lease_sweep(every)?;
    }
    let now = now_ms();
    let mut outcomes = Vec::new();
    for job in queue::due(now, limit)? {
        let Some(claimed) = queue::claim(&job, now_ms())? else {
            continue; // another runner took it
        };
        let result = run_one(&claimed.value);
        outcomes.push(finish(&claimed, result)?);
    }
    Ok(json!({"ran": outcomes.len(), "jobs": outcomes}))
}

fn run_one(job: &Job) -> Result<Value, String> {
    match job.kind.as_str() {
        lease_sweep::KIND => lease_sweep::run().map_err(|e| e.message),
        project_health::KIND => project_health::recompute::run(job),
        webhook_delivery::KIND => webhook_delivery::run(job),
        other => Err(format!("no handler for job kind {other:?}")),
    }
}

fn finish(claimed: &Versioned<Job>, result: Result<Value, String>) -> Result<Value, ApiError> {
    let now = now_ms();
    let job = &claimed.value;
    let (next, outcome, detail) = match result {
        Ok(detail) => (job.succeeded(now), kinds::SUCCEEDED, detail),
        Err(error) => {
            let next = job.failed(now, &error, crate::ids::unit_random());
            let outcome = if next.status == JobStatus::Dead {
                kinds::DEAD
            } else {
                kinds::RETRIED
            };
            (next, outcome, json!({"error": error}))
        }
    };
    if next.status == JobStatus::Succeeded {
        queue::remove(claimed)?;
    } else {
        // A lost swap means the claim ran out and another runner has the job now.
        queue::swap(claimed.version, next.clone())?;
    }
    Ok(json!({
        "id": job.id,
        "kind": job.kind,
        "attempt": job.attempts,
        "outcome": outcome,
        "next_run_at": (next.status == JobStatus::Queued).then_some(next.run_at),
        "detail": detail,
    }))
}

fn schedule_lease_sweep(every: u64) -> Result<(), ApiError> {
    let now = now_ms();
    match crate::records::get::<Job>(crate::records::collections::JOBS, LEASE_SWEEP_ID)? {
        None => {
            let mut job = Job::new(
                LEASE_SWEEP_ID.to_string(),
                lease_sweep::KIND,
                json!({}),
                1,
                now,
            );
            job.every_ms = Some(every);
            queue::enqueue_once(&job)?;
        }
        Some(existing) if existing.value.every_ms != Some(every) => {
            let mut job = existing.value.clone();
            job.every_ms = Some(every);
            job.run_at = job.run_at.min(now + every);
            queue::swap(existing.version, job)?;
        }
        Some(_) => {}
    }
    Ok(())
}
