//! Reading SCIM JSON, whose attribute names match without case (RFC 7643 §2.1).

use serde_json::{Map, Value};

/// A member of an object by name, matched without case.
pub fn get_ci<'v>(object: &'v Value, name: &str) -> Option<&'v Value> {
    let map = object.as_object()?;
    map.get(name).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// The key under which an object holds a name, matched without case.
pub fn key_ci(map: &Map<String, Value>, name: &str) -> Option<String> {
    if map.contains_key(name) {
        return Some(name.to_string());
    }
    map.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned()
}

use super::error::ScimError;

/// An optional text attribute: absent or `null` is `None`, an empty string too; any other
/// type is `400 invalidValue`.
pub fn opt_string(object: &Value, name: &str) -> Result<Option<String>, ScimError> {
    match get_ci(object, name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(ScimError::invalid_value(format!(
            "{name} must be a string, not {other}"
        ))),
    }
}

/// An optional boolean attribute; the strings `"True"` and `"false"` (any case) count as
/// booleans, as Microsoft Entra ID sends them.
pub fn opt_bool(object: &Value, name: &str) -> Result<Option<bool>, ScimError> {
    match get_ci(object, name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => as_bool(v)
            .map(Some)
            .ok_or_else(|| ScimError::invalid_value(format!("{name} must be a boolean, not {v}"))),
    }
}

/// A JSON value as a boolean, allowing `"true"`/`"false"` in any case.
pub fn as_bool(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// A multi-valued attribute's elements: absent or `null` is none, a lone value is one.
pub fn opt_list<'v>(object: &'v Value, name: &str) -> Vec<&'v Value> {
    match get_ci(object, name) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(other) => vec![other],
    }
}

/// Checks a body's `schemas`: when given it must name the resource's core schema and
/// nothing but the schemas `allowed`.
pub fn check_schemas(body: &Value, core: &str, allowed: &[&str]) -> Result<(), ScimError> {
    let Some(schemas) = get_ci(body, "schemas") else {
        return Ok(());
    };
    let list = schemas
        .as_array()
        .ok_or_else(|| ScimError::invalid_syntax("schemas must be a list of schema URNs"))?;
    let mut has_core = false;
    for s in list {
        let urn = s
            .as_str()
            .ok_or_else(|| ScimError::invalid_syntax("schemas must be a list of schema URNs"))?;
        if urn.eq_ignore_ascii_case(core) {
            has_core = true;
        } else if !allowed.iter().any(|a| a.eq_ignore_ascii_case(urn)) {
            return Err(ScimError::invalid_value(format!("unknown schema {urn}")));
        }
    }
    if has_core {
        Ok(())
    } else {
        Err(ScimError::invalid_value(format!(
            "schemas must include {core}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_match_without_case() {
        let v = json!({"userName": "b", "Active": true});
        assert_eq!(get_ci(&v, "USERNAME"), Some(&json!("b")));
        assert_eq!(get_ci(&v, "active"), Some(&json!(true)));
        assert_eq!(get_ci(&v, "title"), None);
        assert_eq!(
            key_ci(v.as_object().unwrap(), "ACTIVE").as_deref(),
            Some("Active")
        );
    }

    #[test]
    fn loose_booleans_and_strings() {
        let v = json!({"a": "False", "b": "TRUE", "c": 1, "d": "", "e": 3});
        assert_eq!(opt_bool(&v, "a").unwrap(), Some(false));
        assert_eq!(opt_bool(&v, "b").unwrap(), Some(true));
        assert_eq!(opt_bool(&v, "z").unwrap(), None);
        assert_eq!(
            opt_bool(&v, "c").unwrap_err().scim_type,
            Some("invalidValue")
        );
        assert_eq!(opt_string(&v, "d").unwrap(), None);
        assert_eq!(opt_string(&v, "e").unwrap_err().status, 400);
    }

    #[test]
    fn schemas_must_name_the_core_schema_and_only_known_ones() {
        let core = "urn:ietf:params:scim:schemas:core:2.0:User";
        let ext = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
        assert!(check_schemas(&json!({}), core, &[ext]).is_ok());
        assert!(check_schemas(&json!({"schemas": [core, ext]}), core, &[ext]).is_ok());
        assert!(check_schemas(&json!({"schemas": [ext]}), core, &[ext]).is_err());
        let e =
            check_schemas(&json!({"schemas": [core, "urn:x:custom"]}), core, &[ext]).unwrap_err();
        assert_eq!(e.scim_type, Some("invalidValue"));
        assert_eq!(
            check_schemas(&json!({"schemas": core}), core, &[])
                .unwrap_err()
                .scim_type,
            Some("invalidSyntax")
        );
    }
}
