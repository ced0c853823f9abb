//! The structured result of a tool call that failed over MCP: upstream clients test
//! `success`, and `error_code` is the same code the JSON API answers with.

use marcus_core::api_error::ApiError;
use schemars::JsonSchema;
use serde::Serialize;

/// A failed call's `structuredContent`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ToolFailure {
    pub success: bool,
    /// What was wrong, naming the argument or the rule.
    pub error: String,
    /// The stable error code (the JSON API's `error.code`).
    pub error_code: String,
}

impl From<&ApiError> for ToolFailure {
    fn from(e: &ApiError) -> Self {
        Self {
            success: false,
            error: e.message.clone(),
            error_code: e.code.to_string(),
        }
    }
}
