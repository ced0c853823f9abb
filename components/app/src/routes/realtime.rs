//! `/api/realtime/{channel}`: publish and poll ordered events.

use crate::allowed_methods::method_not_allowed;
use crate::bindings::realtime;
use crate::http_io::{Request, Response};
use crate::platform_error::to_api;
use marcus_core::api_error::ApiError;
use marcus_core::names::check_name;
use serde_json::{Value, json};

/// Largest page a poll may ask for.
pub const MAX_POLL: u32 = 1000;

/// `POST` publishes the JSON body; `GET ?since=&limit=` polls.
pub fn handle(req: &Request, channel: &str) -> Result<Response, ApiError> {
    check_name("channel", channel)?;
    match req.method.as_str() {
        "POST" => {
            if req.body.iter().all(u8::is_ascii_whitespace) {
                return Err(ApiError::bad_request("request body must be a JSON value"));
            }
            let payload = req.json()?.to_string();
            if let Some(refusal) = marcus_core::realtime_limits::oversized(payload.len()) {
                return Err(ApiError::payload_too_large(refusal));
            }
            let seq = realtime::publish(channel, &payload).map_err(to_api)?;
            Ok(Response::json(200, &json!({"seq": seq})))
        }
        "GET" => {
            let since = number_param(req, "since", 0)?;
            let limit = number_param(req, "limit", 100)?;
            if limit == 0 || limit > MAX_POLL as u64 {
                return Err(ApiError::bad_request(format!(
                    "limit must be from 1 to {MAX_POLL}"
                )));
            }
            let batch = realtime::poll(channel, since, limit as u32).map_err(to_api)?;
            let events: Vec<Value> = batch
                .events
                .iter()
                .map(|e| {
                    json!({
                        "seq": e.seq,
                        "payload": serde_json::from_str::<Value>(&e.payload).unwrap_or(Value::Null),
                        "published_at": e.published_at,
                    })
                })
                .collect();
            Ok(Response::json(
                200,
                &json!({"events": events, "latest": batch.latest, "oldest": batch.oldest}),
            ))
        }
        m => Err(method_not_allowed(m, &["GET", "POST"])),
    }
}

fn number_param(req: &Request, name: &str, default: u64) -> Result<u64, ApiError> {
    match req.query_param(name) {
        None => Ok(default),
        Some(v) => v.parse::<u64>().map_err(|_| {
            ApiError::bad_request(format!("{name} must be a non-negative integer, got {v:?}"))
        }),
    }
}
