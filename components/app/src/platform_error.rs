//! Maps capability errors to API errors, so every route reports backend failures alike.

use crate::bindings::types::Error;
use marcus_core::api_error::ApiError;

/// Converts a `marcus:platform` error into the API's error shape.
pub fn to_api(error: Error) -> ApiError {
    match error {
        Error::NotFound(m) => ApiError::not_found(m),
        Error::Conflict(m) => ApiError::conflict(m),
        Error::Invalid(m) => ApiError::invalid(m),
        Error::Unavailable(m) => ApiError::unavailable(m),
        Error::QuotaExceeded(m) => ApiError::new(403, "quota_exceeded", m),
        Error::Internal(m) => ApiError::internal(m),
    }
}
