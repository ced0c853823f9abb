//! Background jobs: work nobody asked for in a request, run by whatever drives the host (the
//! native host's timer posts `POST /api/jobs/{name}`; on Spin a trigger can call the same
//! route). Every job is idempotent and safe to run on several hosts at once: its writes are
//! compare-and-swap, so a change another host already made is skipped, not repeated.

pub mod lease_sweep;

use crate::http_io::{Request, Response};
use marcus_core::api_error::ApiError;

/// `POST /api/jobs/{name}`: runs one job once and answers what it did.
pub fn handle(req: &Request, name: &str) -> Result<Response, ApiError> {
    if req.method != "POST" {
        return Err(crate::router::method_not_allowed(&req.method, &["POST"]));
    }
    let outcome = match name {
        lease_sweep::NAME => lease_sweep::run()?,
        other => {
            return Err(ApiError::not_found(format!(
                "no job named {other:?}; jobs: {}",
                lease_sweep::NAME
            )));
        }
    };
    Ok(Response::json(200, &outcome))
}
