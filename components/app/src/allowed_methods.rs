//! The 405 rule every route shares: which methods a path allows, said in the error and
//! its `Allow` header.

use crate::http_io::Response;
use marcus_core::api_error::ApiError;

/// Runs `handler` when `method` is one of `allowed`, else answers 405.
pub fn only(
    method: &str,
    allowed: &[&str],
    handler: impl FnOnce() -> Result<Response, ApiError>,
) -> Result<Response, ApiError> {
    if allowed.contains(&method) {
        handler()
    } else {
        Err(method_not_allowed(method, allowed))
    }
}

/// The 405 error naming the allowed methods, in its message and its `Allow` header.
pub fn method_not_allowed(method: &str, allowed: &[&str]) -> ApiError {
    ApiError::method_not_allowed(format!(
        "method {method} is not allowed here; use {}",
        allowed.join(" or ")
    ))
    .with_allow(allowed)
}
