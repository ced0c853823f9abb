//! Rules for collection names, document ids, cache keys and channel names.
//!
//! Names travel in URL paths, Redis keys and SQL parameters; a small safe alphabet keeps
//! every backend and every path unambiguous.

use crate::api_error::ApiError;

/// Longest accepted name, in bytes.
pub const MAX_NAME_LEN: usize = 200;

/// [`check_name`]'s alphabet as a JSON Schema `pattern` (with `minLength` 1 and `maxLength`
/// [`MAX_NAME_LEN`]), so the OpenAPI document states the rule the validator applies.
pub const NAME_PATTERN: &str = "^[A-Za-z0-9_.:-]+$";

/// [`check_document_id`]'s rule as a JSON Schema `pattern`: a name not starting with `_`.
pub const DOCUMENT_ID_PATTERN: &str = "^[A-Za-z0-9.:-][A-Za-z0-9_.:-]*$";

/// Checks a name against the safe alphabet `A-Z a-z 0-9 _ - . :`.
pub fn check_name(kind: &str, name: &str) -> Result<(), ApiError> {
    if name.is_empty() {
        return Err(ApiError::invalid(format!("{kind} must not be empty")));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(ApiError::invalid(format!(
            "{kind} is {} characters long; the limit is {MAX_NAME_LEN}",
            name.len()
        )));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':')))
    {
        return Err(ApiError::invalid(format!(
            "{kind} {name:?} contains {bad:?}; allowed are letters, digits and _ - . :"
        )));
    }
    Ok(())
}

/// Checks a document id: a valid name that does not start with `_` (reserved for
/// operations such as `_query`).
pub fn check_document_id(id: &str) -> Result<(), ApiError> {
    check_name("document id", id)?;
    if id.starts_with('_') {
        return Err(ApiError::invalid(format!(
            "document id {id:?} starts with '_', which is reserved for operations"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_safe_names() {
        assert!(check_name("collection", "tasks").is_ok());
        assert!(check_name("key", "project:1.health-v2_x").is_ok());
    }

    #[test]
    fn rejects_empty_long_and_unsafe() {
        assert_eq!(check_name("collection", "").unwrap_err().code, "invalid");
        assert!(check_name("collection", &"a".repeat(201)).is_err());
        assert!(check_name("collection", &"a".repeat(200)).is_ok());
        let e = check_name("collection", "a/b").unwrap_err();
        assert!(e.message.contains("'/'"), "{}", e.message);
        assert!(check_name("id", "a b").is_err());
        assert!(check_name("id", "é").is_err());
    }

    /// The documented patterns accept exactly the characters the validators accept.
    #[test]
    fn patterns_match_the_validators() {
        let class = |pattern: &str| -> Vec<char> {
            let inner = &pattern[pattern.rfind('[').unwrap() + 1..pattern.rfind(']').unwrap()];
            let mut chars = Vec::new();
            let bytes: Vec<char> = inner.chars().collect();
            let mut i = 0;
            while i < bytes.len() {
                if i + 2 < bytes.len() && bytes[i + 1] == '-' {
                    chars.extend(bytes[i]..=bytes[i + 2]);
                    i += 3;
                } else {
                    chars.push(bytes[i]);
                    i += 1;
                }
            }
            chars
        };
        let name_chars = class(NAME_PATTERN);
        for c in (0u8..128).map(char::from) {
            let one = c.to_string();
            assert_eq!(
                check_name("n", &one).is_ok(),
                name_chars.contains(&c),
                "{c:?}"
            );
            assert_eq!(
                check_document_id(&format!("a{c}")).is_ok(),
                name_chars.contains(&c),
                "{c:?}"
            );
            assert_eq!(
                check_document_id(&one).is_ok(),
                name_chars.contains(&c) && c != '_',
                "{c:?}"
            );
        }
        assert!(DOCUMENT_ID_PATTERN.starts_with("^[A-Za-z0-9.:-]"));
    }

    #[test]
    fn reserves_underscore_ids() {
        assert!(check_document_id("_query").is_err());
        assert!(check_document_id("task_1").is_ok());
    }
}
