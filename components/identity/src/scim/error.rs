//! SCIM's error answer (RFC 7644 §3.12): an HTTP status, a `scimType` naming what was wrong
//! with the request, and a sentence for people.

use serde_json::{Value, json};

/// The schema of an error body.
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// A refused SCIM request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimError {
    /// The HTTP status to answer with.
    pub status: u16,
    /// RFC 7644 §3.12's `scimType` (`uniqueness`, `invalidFilter`, ...), for `400` and `409`.
    pub scim_type: Option<&'static str>,
    /// What went wrong, for people.
    pub detail: String,
}

impl ScimError {
    /// Any error.
    pub fn new(status: u16, scim_type: Option<&'static str>, detail: impl Into<String>) -> Self {
        Self {
            status,
            scim_type,
            detail: detail.into(),
        }
    }

    /// `400 invalidValue`: a value is missing, of the wrong type, or not allowed.
    pub fn invalid_value(detail: impl Into<String>) -> Self {
        Self::new(400, Some("invalidValue"), detail)
    }

    /// `400 invalidFilter`: a filter that does not parse or compares what cannot be compared.
    pub fn invalid_filter(detail: impl Into<String>) -> Self {
        Self::new(400, Some("invalidFilter"), detail)
    }

    /// `400 invalidSyntax`: a body that is not the message it should be.
    pub fn invalid_syntax(detail: impl Into<String>) -> Self {
        Self::new(400, Some("invalidSyntax"), detail)
    }

    /// `400 invalidPath`: a PATCH path that does not parse.
    pub fn invalid_path(detail: impl Into<String>) -> Self {
        Self::new(400, Some("invalidPath"), detail)
    }

    /// `400 noTarget`: a PATCH path that selects nothing where it must select something.
    pub fn no_target(detail: impl Into<String>) -> Self {
        Self::new(400, Some("noTarget"), detail)
    }

    /// `400 mutability`: an attempt to change what the server owns (`id`, `meta`, `groups`).
    pub fn mutability(detail: impl Into<String>) -> Self {
        Self::new(400, Some("mutability"), detail)
    }

    /// `409 uniqueness`: another resource of the tenant already has this `userName` or
    /// group name.
    pub fn uniqueness(detail: impl Into<String>) -> Self {
        Self::new(409, Some("uniqueness"), detail)
    }

    /// `404`: no such resource in the tenant.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(404, None, detail)
    }

    /// `405`: a method the endpoint does not take (the discovery endpoints are read-only).
    pub fn method_not_allowed(detail: impl Into<String>) -> Self {
        Self::new(405, None, detail)
    }

    /// `501`: a feature the server does not offer (bulk, root `/.search`), as
    /// ServiceProviderConfig says.
    pub fn not_implemented(detail: impl Into<String>) -> Self {
        Self::new(501, None, detail)
    }

    /// `412`: the `If-Match` version is not the stored one.
    pub fn precondition_failed(detail: impl Into<String>) -> Self {
        Self::new(412, None, detail)
    }

    /// The error body to send (status as a string, as RFC 7644 §3.12 writes it).
    pub fn to_json(&self) -> Value {
        let mut body = json!({
            "schemas": [ERROR_SCHEMA],
            "status": self.status.to_string(),
            "detail": self.detail,
        });
        if let Some(t) = self.scim_type {
            body["scimType"] = Value::from(t);
        }
        body
    }
}

impl std::fmt::Display for ScimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.scim_type {
            Some(t) => write!(f, "{} {}: {}", self.status, t, self.detail),
            None => write!(f, "{}: {}", self.status, self.detail),
        }
    }
}

impl std::error::Error for ScimError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_has_schema_string_status_and_type() {
        let e = ScimError::uniqueness("userName bjensen is taken");
        assert_eq!(e.status, 409);
        let body = e.to_json();
        assert_eq!(body["schemas"][0], ERROR_SCHEMA);
        assert_eq!(body["status"], "409");
        assert_eq!(body["scimType"], "uniqueness");
        assert_eq!(body["detail"], "userName bjensen is taken");
    }

    #[test]
    fn not_found_has_no_scim_type() {
        let body = ScimError::not_found("no user u1").to_json();
        assert_eq!(body["status"], "404");
        assert!(body.get("scimType").is_none());
        assert_eq!(
            ScimError::invalid_filter("x").to_string(),
            "400 invalidFilter: x"
        );
    }
}
