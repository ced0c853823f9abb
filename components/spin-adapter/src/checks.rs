//! Argument checks with the same limits and words as the native host's backends, so the
//! app sees identical refusals on both hosts.

use crate::bindings::Error;

/// Largest page any query or scan returns.
pub const MAX_PAGE: u32 = 1000;

/// Document data must be JSON text.
pub fn json(data: &str) -> Result<(), Error> {
    serde_json::from_str::<serde_json::Value>(data)
        .map(|_| ())
        .map_err(|e| Error::Invalid(format!("document data is not valid JSON: {e}")))
}

/// Collection names and ids: non-empty, at most 200 bytes.
pub fn key(kind: &str, value: &str) -> Result<(), Error> {
    if value.is_empty() || value.len() > 200 {
        return Err(Error::Invalid(format!("{kind} must be 1-200 bytes long")));
    }
    Ok(())
}

/// Filter field names: letters, digits, `_` and `-` (they are written into SQL paths).
pub fn field(field: &str) -> Result<(), Error> {
    if field.is_empty()
        || field.len() > 200
        || !field
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(Error::Invalid(format!(
            "filter field {field:?} must be 1-200 letters, digits, _ or -"
        )));
    }
    Ok(())
}

/// Page size bounds.
pub fn limit(limit: u32) -> Result<(), Error> {
    if limit == 0 || limit > MAX_PAGE {
        return Err(Error::Invalid(format!(
            "limit must be from 1 to {MAX_PAGE}, got {limit}"
        )));
    }
    Ok(())
}

/// Milliseconds since the Unix epoch, from the host's wall clock.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
