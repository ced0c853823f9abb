//! `GET /api/projects/{id}/events?since=&limit=`: a project's live event feed, polled.

use crate::bindings::realtime;
use crate::http_io::{Request, Response};
use crate::platform_error::to_api;
use marcus_core::api_error::ApiError;
use serde_json::{Value, json};

/// Events of `project:<id>` after `since`.
pub fn project_events(req: &Request, project_id: &str) -> Result<Response, ApiError> {
    if req.method != "GET" {
        return Err(crate::router::method_not_allowed(&req.method, &["GET"]));
    }
    crate::tools::projects::load(project_id)?;
    let num = |name: &str, default: u64| -> Result<u64, ApiError> {
        match req.query_param(name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| {
                ApiError::bad_request(format!("{name} must be a non-negative integer"))
            }),
        }
    };
    let since = num("since", 0)?;
    let limit = num("limit", 100)?.clamp(1, 1000) as u32;
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
