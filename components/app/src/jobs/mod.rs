//! Background jobs: a stored queue every runner shares (the native host's timer calls
//! `POST /api/jobs/run`; on Spin the Redis-trigger worker runs the same code), plus the
//! routes people use to see and retry what failed.
//!
//! - `GET /api/jobs?status=&kind=&project_id=&limit=`: jobs, dead letters included;
//! - `GET /api/jobs/{id}`, `POST /api/jobs/{id}/retry` (dead letters only);
//! - `POST /api/jobs/run?limit=&sweep_interval_ms=`: runs due jobs once;
//! - `POST /api/jobs/lease-sweep`: runs the sweep now, outside the queue.

pub mod lease_sweep;
pub mod project_health;
pub mod queue;
pub mod runner;
pub mod webhook_delivery;

use crate::allowed_methods::only;
use crate::http_io::{Request, Response};
use crate::ids::now_ms;
use crate::records::{self, collections};
use marcus_core::api_error::ApiError;
use marcus_core::jobs::{Job, JobStatus};
use serde_json::{Value, json};

/// Most jobs one `run` call takes on.
pub const MAX_RUN_LIMIT: usize = 100;
/// Most jobs one listing returns.
pub const MAX_LIST_LIMIT: usize = 500;

/// Dispatches `/api/jobs/...`.
pub fn handle(req: &Request, rest: &[&str]) -> Result<Response, ApiError> {
    let method = req.method.as_str();
    match rest {
        [] => only(method, &["GET"], || list(req)),
        ["run"] => only(method, &["POST"], || run(req)),
        [lease_sweep::NAME] => only(method, &["POST"], || {
            Ok(Response::json(200, &lease_sweep::run()?))
        }),
        [id] => only(method, &["GET"], || {
            let job = load(id)?;
            Ok(Response::json(200, &json!({"job": job.value})))
        }),
        [id, "retry"] => only(method, &["POST"], || retry(id)),
        _ => Err(ApiError::not_found(format!(
            "no route for {method} {}",
            req.path
        ))),
    }
}

fn run(req: &Request) -> Result<Response, ApiError> {
    let limit = req.limit(10, MAX_RUN_LIMIT)?;
    let sweep = match req.query_param("sweep_interval_ms") {
        None => None,
        Some(s) => match s.parse::<u64>() {
            Ok(0) => None,
            Ok(n) if n >= 10 => Some(n),
            _ => {
                return Err(ApiError::bad_request(format!(
                    "sweep_interval_ms must be 0 (off) or at least 10, got {s:?}"
                )));
            }
        },
    };
    Ok(Response::json(200, &runner::run_due(limit, sweep)?))
}

fn list(req: &Request) -> Result<Response, ApiError> {
    let limit = req.limit(100, MAX_LIST_LIMIT)?;
    let mut filters: Vec<(&str, Value)> = Vec::new();
    if let Some(s) = req.query_param("status") {
        let status = JobStatus::parse(s).ok_or_else(|| {
            ApiError::bad_request(format!(
                "status must be queued, running, succeeded or dead, got {s:?}"
            ))
        })?;
        filters.push(("status", json!(status.as_str())));
    }
    if let Some(k) = req.query_param("kind") {
        filters.push(("kind", json!(k)));
    }
    if let Some(p) = req.query_param("project_id") {
        filters.push(("project_id", json!(p)));
    }
    let mut jobs: Vec<Job> = records::query_all::<Job>(collections::JOBS, &filters)?
        .into_iter()
        .map(|v| v.value)
        .collect();
    let total = jobs.len();
    // Newest first: people look for what just failed.
    jobs.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(b.id.cmp(&a.id)));
    jobs.truncate(limit);
    let mut counts = serde_json::Map::new();
    for status in [JobStatus::Queued, JobStatus::Running, JobStatus::Dead] {
        let n = records::count(collections::JOBS, &[("status", json!(status.as_str()))])?;
        counts.insert(status.as_str().into(), json!(n));
    }
    Ok(Response::json(
        200,
        &json!({"jobs": jobs, "total": total, "counts": counts}),
    ))
}

fn load(id: &str) -> Result<records::Versioned<Job>, ApiError> {
    records::get::<Job>(collections::JOBS, id)?
        .ok_or_else(|| ApiError::not_found(format!("no job {id:?}")))
}

fn retry(id: &str) -> Result<Response, ApiError> {
    let job = load(id)?;
    let Some(again) = job.value.retried(now_ms()) else {
        return Err(ApiError::conflict(format!(
            "job {id} is {}; only dead jobs can be retried",
            job.value.status.as_str()
        )));
    };
    match queue::swap(job.version, again.clone())? {
        Some(_) => Ok(Response::json(200, &json!({"job": again}))),
        None => Err(ApiError::conflict(format!(
            "job {id} changed meanwhile; read it again"
        ))),
    }
}
