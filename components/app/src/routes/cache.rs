//! `/api/cache`: raw bytes with a TTL over the cache capability.

use crate::allowed_methods::method_not_allowed;
use crate::bindings::cache;
use crate::http_io::{Request, Response};
use crate::platform_error::to_api;
use marcus_core::api_error::ApiError;
use marcus_core::names::check_name;
use serde_json::json;

/// Dispatches `/api/cache` and `/api/cache/{key}`.
pub fn handle(req: &Request, rest: &[&str]) -> Result<Response, ApiError> {
    let m = req.method.as_str();
    match rest {
        [] => match m {
            "DELETE" => {
                cache::clear().map_err(to_api)?;
                Ok(Response::json(200, &json!({"cleared": true})))
            }
            _ => Err(method_not_allowed(m, &["DELETE"])),
        },
        [key] => {
            check_name("cache key", key)?;
            match m {
                "GET" => match cache::get(key).map_err(to_api)? {
                    Some(value) => Ok(Response::bytes(200, "application/octet-stream", value)),
                    None => Err(ApiError::not_found(format!(
                        "cache key {key} is not cached"
                    ))),
                },
                "PUT" => {
                    let ttl = match req.query_param("ttl") {
                        None => None,
                        Some(t) => {
                            Some(t.parse::<u32>().ok().filter(|t| *t > 0).ok_or_else(|| {
                                ApiError::bad_request(format!(
                                    "ttl must be a positive number of seconds, got {t:?}"
                                ))
                            })?)
                        }
                    };
                    cache::set(key, &req.body, ttl).map_err(to_api)?;
                    Ok(Response::json(200, &json!({"stored": true})))
                }
                "DELETE" => {
                    let deleted = cache::delete(key).map_err(to_api)?;
                    Ok(Response::json(200, &json!({"deleted": deleted})))
                }
                _ => Err(method_not_allowed(m, &["GET", "PUT", "DELETE"])),
            }
        }
        _ => Err(ApiError::not_found(format!(
            "no route for {} {}",
            m, req.path
        ))),
    }
}
