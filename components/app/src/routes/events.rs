//! `GET /api/projects/{id}/events?since=&limit=`: a project's live event feed, polled.

use crate::bindings::realtime;
use crate::http_io::{Request, Response};
use crate::platform_error::to_api;
use marcus_core::api_error::ApiError;
use serde_json::{Value, json};

/// Events one poll returns unless `?limit=` says otherwise.
pub const DEFAULT_LIMIT: usize = 100;
/// Most events one poll returns.
pub const MAX_LIMIT: usize = 1000;

/// Events of `project:<id>` after `since`.
pub fn project_events(req: &Request, project_id: &str) -> Result<Response, ApiError> {
    if req.method != "GET" {
        return Err(crate::allowed_methods::method_not_allowed(
            &req.method,
            &["GET"],
        ));
    }
    crate::tools::board_reads::project(project_id)?;
    let since = match req.query_param("since") {
        None => 0,
        Some(v) => v.parse::<u64>().map_err(|_| {
            ApiError::bad_request(format!("since must be a non-negative integer, got {v:?}"))
        })?,
    };
    let limit = req.limit(DEFAULT_LIMIT, MAX_LIMIT)? as u32;
    let batch = realtime::poll(&format!("project:{project_id}"), since, limit).map_err(to_api)?;
    let events: Vec<Value> = batch
        .events
        .iter()
        .map(|e| {
            let mut v = serde_json::from_str::<Value>(&e.payload).unwrap_or(Value::Null);
            if let Value::Object(m) = &mut v {
                m.insert("seq".into(), json!(e.seq));
            }
            v
        })
        .collect();
    Ok(Response::json(
        200,
        &json!({"events": events, "latest": batch.latest, "oldest": batch.oldest}),
    ))
}
