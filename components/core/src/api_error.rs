//! The one error shape every Marcus API answers with.

use serde_json::{Value, json};

/// Seconds a client is told to wait (`Retry-After`) before retrying a `503`: about as long
/// as the host takes to notice that a backend is back (its probes run every second).
pub const RETRY_AFTER_SECONDS: u32 = 2;

/// The `Retry-After` value for a response with `status`: every `503` carries one, so
/// clients back off instead of hammering a host whose storage is away.
pub fn retry_after(status: u16) -> Option<u32> {
    (status == 503).then_some(RETRY_AFTER_SECONDS)
}

/// An API failure: an HTTP status plus a stable machine-readable code, so clients can
/// branch on `code` and people can read `message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status to answer with.
    pub status: u16,
    /// Stable snake_case code (`not_found`, `conflict`, ...).
    pub code: &'static str,
    /// Human-readable explanation.
    pub message: String,
    /// For 405: the methods the resource supports, sent as the `Allow` header (RFC 9110).
    pub allow: Option<String>,
}

impl ApiError {
    /// Builds an error from its parts.
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            allow: None,
        }
    }

    /// Malformed request: bad JSON, wrong types, bad parameters.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "bad_request", message)
    }

    /// Well-formed but refused arguments (empty or reserved ids).
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(400, "invalid", message)
    }

    /// Unknown route or missing resource.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(404, "not_found", message)
    }

    /// Known route, unsupported method.
    pub fn method_not_allowed(message: impl Into<String>) -> Self {
        Self::new(405, "method_not_allowed", message)
    }

    /// Names the methods the resource supports (the `Allow` header of a 405).
    pub fn with_allow(mut self, methods: &[&str]) -> Self {
        self.allow = Some(methods.join(", "));
        self
    }

    /// A compare-and-swap precondition failed; nothing was written.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(409, "conflict", message)
    }

    /// Request body over the documented limit.
    pub fn payload_too_large(message: impl Into<String>) -> Self {
        Self::new(413, "payload_too_large", message)
    }

    /// A backend is down; the client may retry.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(503, "unavailable", message)
    }

    /// A bug or unexpected backend failure.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "internal", message)
    }

    /// The JSON body `{"error": {"code", "message"}}`.
    pub fn body(&self) -> Value {
        json!({"error": {"code": self.code, "message": self.message}})
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.status, self.message)
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unavailable_answers_carry_retry_after() {
        assert_eq!(
            retry_after(ApiError::unavailable("db down").status),
            Some(RETRY_AFTER_SECONDS)
        );
        for status in [200, 400, 404, 409, 413, 500] {
            assert_eq!(retry_after(status), None, "{status}");
        }
    }

    #[test]
    fn body_has_code_and_message() {
        let e = ApiError::conflict("version 3 expected, found 4");
        assert_eq!(e.status, 409);
        assert_eq!(
            e.body(),
            json!({"error": {"code": "conflict", "message": "version 3 expected, found 4"}})
        );
    }
}
