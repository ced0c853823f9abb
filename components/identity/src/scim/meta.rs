//! What SCIM says about a resource besides its attributes: where it lives, its version as a
//! weak ETag (RFC 7644 §3.14) and its `meta` object.

use super::error::ScimError;
use super::time::format_rfc3339;
use serde_json::{Value, json};

/// The weak ETag of a stored version: `W/"7"`.
pub fn etag(version: u64) -> String {
    format!("W/\"{version}\"")
}

/// The version in an ETag, weak or strong (`W/"7"`, `"7"`); `None` if it is not one of
/// Marcus's.
pub fn parse_etag(tag: &str) -> Option<u64> {
    let t = tag.trim();
    let t = t.strip_prefix("W/").unwrap_or(t);
    t.strip_prefix('"')?.strip_suffix('"')?.parse().ok()
}

/// Checks an `If-Match` header against the stored version: `*` and a list containing the
/// current ETag pass, anything else is `412`.
pub fn check_if_match(header: Option<&str>, version: u64) -> Result<(), ScimError> {
    let Some(h) = header else { return Ok(()) };
    if h.trim() == "*" || h.split(',').any(|t| parse_etag(t) == Some(version)) {
        Ok(())
    } else {
        Err(ScimError::precondition_failed(format!(
            "the resource is at version {}",
            etag(version)
        )))
    }
}

/// A resource's URI: `{base_url}{endpoint}/{id}`.
pub fn location(base_url: &str, endpoint: &str, id: &str) -> String {
    format!("{}{endpoint}/{id}", base_url.trim_end_matches('/'))
}

/// The `meta` object of a resource.
pub fn meta(
    resource_type: &str,
    created_ms: u64,
    modified_ms: u64,
    location: &str,
    version: u64,
) -> Value {
    json!({
        "resourceType": resource_type,
        "created": format_rfc3339(created_ms),
        "lastModified": format_rfc3339(modified_ms),
        "location": location,
        "version": etag(version),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_round_trip() {
        assert_eq!(etag(7), "W/\"7\"");
        assert_eq!(parse_etag("W/\"7\""), Some(7));
        assert_eq!(parse_etag(" \"12\" "), Some(12));
        assert_eq!(parse_etag("7"), None);
        assert_eq!(parse_etag("W/\"x\""), None);
    }

    #[test]
    fn if_match() {
        assert!(check_if_match(None, 3).is_ok());
        assert!(check_if_match(Some("*"), 3).is_ok());
        assert!(check_if_match(Some("W/\"2\", W/\"3\""), 3).is_ok());
        assert_eq!(check_if_match(Some("W/\"2\""), 3).unwrap_err().status, 412);
    }

    #[test]
    fn location_and_meta() {
        assert_eq!(
            location("https://h/scim/v2/", "/Users", "u1"),
            "https://h/scim/v2/Users/u1"
        );
        let m = meta("User", 0, 1000, "https://h/Users/u1", 4);
        assert_eq!(m["lastModified"], "1970-01-01T00:00:01.000Z");
        assert_eq!(m["version"], "W/\"4\"");
    }
}
