//! Argument checks and the compare-and-swap precondition.

use super::{Expect, MAX_PAGE, StoreError};

/// Document data must be JSON text.
pub fn check_json(data: &str) -> Result<(), StoreError> {
    serde_json::from_str::<serde::de::IgnoredAny>(data)
        .map(|_| ())
        .map_err(|e| StoreError::Invalid(format!("document data is not valid JSON: {e}")))
}

/// [`check_field`]'s rule as a JSON Schema `pattern` (with `maxLength` 200).
pub const FIELD_PATTERN: &str = "^[A-Za-z0-9_-]+$";

/// Filter field names: letters, digits, `_` and `-`, because they are written into SQL.
pub fn check_field(field: &str) -> Result<(), StoreError> {
    if field.is_empty()
        || field.len() > 200
        || !field
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(StoreError::Invalid(format!(
            "filter field {field:?} must be 1-200 letters, digits, _ or -"
        )));
    }
    Ok(())
}

/// Collection names and ids: non-empty, at most 200 bytes.
pub fn check_key(kind: &str, value: &str) -> Result<(), StoreError> {
    if value.is_empty() || value.len() > 200 {
        return Err(StoreError::Invalid(format!(
            "{kind} must be 1-200 bytes long"
        )));
    }
    Ok(())
}

/// Page size bounds.
pub fn check_limit(limit: u32) -> Result<(), StoreError> {
    if limit == 0 || limit > MAX_PAGE {
        return Err(StoreError::Invalid(format!(
            "limit must be from 1 to {MAX_PAGE}, got {limit}"
        )));
    }
    Ok(())
}

/// Checks a precondition against the current version (`None` = absent).
pub fn check_expect(
    collection: &str,
    id: &str,
    expect: Expect,
    current: Option<u64>,
) -> Result<(), StoreError> {
    match (expect, current) {
        (Expect::Any, _) | (Expect::Absent, None) => Ok(()),
        (Expect::Absent, Some(v)) => Err(StoreError::Conflict(format!(
            "{collection}/{id} already exists (version {v})"
        ))),
        (Expect::Version(want), Some(have)) if want == have => Ok(()),
        (Expect::Version(want), Some(have)) => Err(StoreError::Conflict(format!(
            "{collection}/{id} is at version {have}, not {want}"
        ))),
        (Expect::Version(want), None) => Err(StoreError::Conflict(format!(
            "{collection}/{id} does not exist (expected version {want})"
        ))),
    }
}

/// Whether a precondition holds for a document at `current` (`None` = absent).
pub fn holds(expect: Expect, current: Option<u64>) -> bool {
    check_expect("", "", expect, current).is_ok()
}

/// Why a conditional write changed no row, given the version read right after it: the
/// precondition's own words when it does not hold, else another writer changed the document
/// between the two statements, which is the conflict it was.
pub fn unmet_precondition(
    collection: &str,
    id: &str,
    expect: Expect,
    current: Option<u64>,
) -> StoreError {
    match check_expect(collection, id, expect, current) {
        Err(e) => e,
        Ok(()) => StoreError::Conflict(format!("{collection}/{id} changed concurrently")),
    }
}

/// What a conditional delete that removed no row answers, given the version read right
/// after it: `false` for an absent document, a conflict for one at another version.
pub fn missed_delete(
    collection: &str,
    id: &str,
    expected: Option<u64>,
    current: Option<u64>,
) -> Result<bool, StoreError> {
    match (expected, current) {
        (Some(want), Some(have)) => Err(StoreError::Conflict(format!(
            "{collection}/{id} is at version {have}, not {want}"
        ))),
        _ => Ok(false),
    }
}

/// A filter's field checked to the safe alphabet and its value read as JSON: what every
/// dialect's filter builder needs before writing SQL.
pub fn filter_value(field: &str, json: &str) -> Result<serde_json::Value, StoreError> {
    check_field(field)?;
    serde_json::from_str(json)
        .map_err(|e| StoreError::Invalid(format!("filter value for {field} is not JSON: {e}")))
}

/// Checks what every write needs: a collection, an id and JSON data.
pub fn check_write(collection: &str, id: &str, data: &str) -> Result<(), StoreError> {
    check_key("collection", collection)?;
    check_key("id", id)?;
    check_json(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_use_the_contract_words() {
        assert!(check_key("id", "").is_err());
        assert!(check_key("id", &"x".repeat(201)).is_err());
        assert!(check_field("a' OR '1").is_err());
        assert!(check_field("deps_remaining").is_ok());
        assert!(check_limit(0).is_err() && check_limit(1001).is_err() && check_limit(1000).is_ok());
        assert!(check_json("{").is_err());
        assert_eq!(
            check_expect("c", "d", Expect::Version(2), Some(3)),
            Err(StoreError::Conflict("c/d is at version 3, not 2".into()))
        );
        assert!(check_expect("c", "d", Expect::Absent, None).is_ok());
        assert!(check_expect("c", "d", Expect::Absent, Some(1)).is_err());
        assert!(check_expect("c", "d", Expect::Version(1), None).is_err());
    }

    #[test]
    fn a_write_that_changed_nothing_is_a_conflict_in_the_preconditions_words() {
        assert!(holds(Expect::Absent, None) && !holds(Expect::Version(2), Some(3)));
        assert_eq!(
            unmet_precondition("c", "d", Expect::Version(2), Some(3)),
            StoreError::Conflict("c/d is at version 3, not 2".into())
        );
        assert_eq!(
            unmet_precondition("c", "d", Expect::Version(3), Some(3)),
            StoreError::Conflict("c/d changed concurrently".into())
        );
        assert_eq!(missed_delete("c", "d", Some(1), None), Ok(false));
        assert_eq!(missed_delete("c", "d", None, None), Ok(false));
        assert_eq!(
            missed_delete("c", "d", Some(1), Some(2)),
            Err(StoreError::Conflict("c/d is at version 2, not 1".into()))
        );
    }
}
