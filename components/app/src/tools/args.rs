//! Typed access to tool arguments with errors that name the field.

use marcus_core::api_error::ApiError;
use marcus_core::text::is_blank;
use serde_json::{Map, Value};

/// A required string argument that is not blank.
pub fn req_str(args: &Map<String, Value>, field: &str) -> Result<String, ApiError> {
    match args.get(field) {
        Some(Value::String(s)) if !is_blank(s) => Ok(s.clone()),
        Some(Value::String(_)) => Err(ApiError::invalid(format!("{field} must not be empty"))),
        None | Some(Value::Null) => Err(ApiError::invalid(format!("{field} is required"))),
        Some(_) => Err(ApiError::invalid(format!("{field} must be a string"))),
    }
}

/// An optional string argument.
pub fn opt_str(args: &Map<String, Value>, field: &str) -> Result<Option<String>, ApiError> {
    match args.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::invalid(format!("{field} must be a string"))),
    }
}

/// An optional list of strings (a single string is accepted as a list of one).
pub fn opt_str_list(args: &Map<String, Value>, field: &str) -> Result<Vec<String>, ApiError> {
    match args.get(field) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| ApiError::invalid(format!("{field}[{i}] must be a string")))
            })
            .collect(),
        Some(_) => Err(ApiError::invalid(format!(
            "{field} must be a list of strings"
        ))),
    }
}
