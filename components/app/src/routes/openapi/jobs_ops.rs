//! The job queue's operations (`/api/jobs`).

use super::operation::Operation;
use super::schemas::{count, int_range, object_with};
use crate::jobs::{MAX_LIST_LIMIT, MAX_RUN_LIMIT, lease_sweep};
use marcus_core::jobs::JobStatus;
use serde_json::json;

/// Listing, one job, retrying a dead one, running due jobs and the lease sweep.
pub fn operations() -> Vec<Operation> {
    let statuses: Vec<&str> = [
        JobStatus::Queued,
        JobStatus::Running,
        JobStatus::Succeeded,
        JobStatus::Dead,
    ]
    .map(JobStatus::as_str)
    .to_vec();
    let job = json!({"type": "object", "required": ["id", "kind", "status"]});
    vec![
        Operation::new("GET", "/api/jobs", "jobs", "Jobs, newest first, dead letters included")
            .query("status", json!({"type": "string", "enum": statuses}), "Only jobs in this state")
            .query("kind", json!({"type": "string"}), "Only jobs of this kind")
            .query("project_id", json!({"type": "string"}), "Only this project's jobs")
            .query("limit", int_range(1, MAX_LIST_LIMIT as u64), "Most jobs listed (100 when absent)")
            .answers(200, "Jobs, the total matching and counts by state", object_with(&[
                ("jobs", json!({"type": "array", "items": job.clone()})),
                ("total", count()),
                ("counts", json!({"type": "object"})),
            ]))
            .fails(400, &["bad_request"]),
        Operation::new("GET", "/api/jobs/{id}", "jobs", "One job")
            .answers(200, "The job", object_with(&[("job", job.clone())]))
            .fails(404, &["not_found"]),
        Operation::new("POST", "/api/jobs/{id}/retry", "jobs", "Queue a dead job again")
            .answers(200, "The job, queued", object_with(&[("job", job)]))
            .fails(404, &["not_found"])
            .fails(409, &["conflict"]),
        Operation::new("POST", "/api/jobs/run", "jobs", "Run due jobs once (the host's timer calls this)")
            .query("limit", int_range(1, MAX_RUN_LIMIT as u64), "Most jobs run (10 when absent)")
            .query(
                "sweep_interval_ms",
                json!({"anyOf": [{"type": "integer", "const": 0}, {"type": "integer", "minimum": 10, "maximum": u64::MAX}]}),
                "Keep the periodic lease sweep queued at this interval (0: off)",
            )
            .answers(200, "What each job did", object_with(&[("ran", count()), ("jobs", json!({"type": "array"}))]))
            .fails(400, &["bad_request"])
            .fails(409, &["conflict"]),
        Operation::new(
            "POST",
            &format!("/api/jobs/{}", lease_sweep::NAME),
            "jobs",
            "Return lapsed leases to the pool now",
        )
        .answers(200, "Leases checked and returned", object_with(&[
            ("job", json!({"type": "string"})),
            ("checked", count()),
            ("expired", json!({"type": "array"})),
        ])),
    ]
}
