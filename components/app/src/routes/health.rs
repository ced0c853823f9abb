//! Liveness: the component instantiates and answers.

use crate::http_io::Response;
use marcus_core::api_error::ApiError;
use serde_json::json;

/// `GET /healthz`.
pub fn get() -> Result<Response, ApiError> {
    Ok(Response::json(200, &json!({"status": "ok"})))
}
