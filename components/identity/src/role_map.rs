//! How an identity provider's claim or attribute values become a Marcus role: one rule for
//! provider access tokens, OpenID Connect logins and SAML assertions, so a group grants the
//! same role whichever way its member arrives.

use crate::principal::Role;

/// Parses `value=role,…` (for example `acme:admin=admin,acme:dev=member`).
pub fn parse(spec: &str) -> Result<Vec<(String, Role)>, String> {
    let mut map = Vec::new();
    for pair in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (value, role) = pair
            .rsplit_once('=')
            .ok_or_else(|| format!("role map entry {pair:?} is not value=role"))?;
        if value.is_empty() {
            return Err(format!("role map entry {pair:?} has no claim value"));
        }
        map.push((value.to_string(), Role::parse(role.trim())?));
    }
    if map.is_empty() {
        return Err("the role map is empty: name at least one value=role".into());
    }
    Ok(map)
}

/// The most powerful role `values` grant under `map`; none when no value is mapped.
pub fn granted(map: &[(String, Role)], values: &[String]) -> Option<Role> {
    map.iter()
        .filter(|(value, _)| values.contains(value))
        .map(|(_, role)| *role)
        .min()
}

/// A claim's values: a space-separated string (as `scope` is) or an array of strings.
pub fn claim_values(claim: Option<&serde_json::Value>) -> Vec<String> {
    use serde_json::Value;
    match claim {
        Some(Value::String(s)) => s.split_whitespace().map(str::to_string).collect(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_most_powerful_mapped_value_wins() {
        let map = parse("acme:dev=member, acme:admin=admin,acme:ro=viewer").unwrap();
        let v = |s: &[&str]| s.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            granted(&map, &v(&["acme:ro", "acme:admin"])),
            Some(Role::Admin)
        );
        assert_eq!(granted(&map, &v(&["acme:dev"])), Some(Role::Member));
        assert_eq!(granted(&map, &v(&["other"])), None);
        assert_eq!(granted(&map, &[]), None);
    }

    #[test]
    fn claims_are_strings_or_arrays() {
        assert_eq!(claim_values(Some(&json!("a b"))), vec!["a", "b"]);
        assert_eq!(claim_values(Some(&json!(["a", 1, "b"]))), vec!["a", "b"]);
        assert!(claim_values(Some(&json!({"a": 1}))).is_empty());
        assert!(claim_values(None).is_empty());
    }
}
