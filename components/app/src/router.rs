//! Maps method and path to a route handler; unknown paths are 404, wrong methods 405.

use crate::allowed_methods::only;
use crate::http_io::{Request, Response};
use crate::routes;
use marcus_core::api_error::ApiError;

/// Dispatches one request and always produces a response.
pub fn route(request: &Request) -> Response {
    match dispatch(request) {
        Ok(response) => response,
        Err(error) => Response::error(&error),
    }
}

fn dispatch(req: &Request) -> Result<Response, ApiError> {
    // Segments are split first and decoded after, so an escaped `/` stays inside its segment
    // (where the names rule refuses it).
    let decoded: Vec<String> = req
        .path
        .trim_end_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .map(crate::http_io::percent_decode_path)
        .collect();
    let segments: Vec<&str> = decoded.iter().map(String::as_str).collect();
    let method = req.method.as_str();
    if let Some(access) = marcus_identity::route_access::route_access(method, &segments) {
        crate::caller::require(access, None)?;
    }
    match segments.as_slice() {
        [] => routes::dashboard::index(req),
        ["assets", name] => routes::dashboard::asset(req, name),
        ["healthz"] => only(method, &["GET"], routes::health::get),
        ["mcp"] => crate::mcp::handle(req),
        ["api", "tools"] => routes::tools::handle(req, None),
        ["api", "tools", name] => routes::tools::handle(req, Some(name)),
        ["api", "openapi.json"] => only(method, &["GET"], routes::openapi::get),
        ["api", "projects", project_id, "events"] => {
            routes::events::project_events(req, project_id)
        }
        ["api", "features"] => only(method, &["GET"], routes::features::get),
        ["api", "storage", rest @ ..] => routes::storage::handle(req, rest),
        ["api", "cache", rest @ ..] => routes::cache::handle(req, rest),
        ["api", "realtime", channel] => routes::realtime::handle(req, channel),
        #[cfg(feature = "debug-routes")]
        ["api", "debug", what] => routes::debug::handle(req, what),
        ["api", "jobs", rest @ ..] => crate::jobs::handle(req, rest),
        ["api", "projects", project_id, "webhooks"] => {
            routes::webhooks::for_project(req, project_id)
        }
        ["api", "webhooks", rest @ ..] => routes::webhooks::handle(req, rest),
        other => match routes::board::handle(req, other) {
            Some(result) => result,
            None => Err(ApiError::not_found(format!(
                "no route for {} {}",
                req.method, req.path
            ))),
        },
    }
}
