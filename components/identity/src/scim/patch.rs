//! SCIM PATCH (RFC 7644 §3.5.2): `add`, `replace` and `remove` operations, with or without a
//! `path`, applied to a stored user or group. The operations work on the resource's
//! writable attributes as JSON and the result is read back as a whole resource, so a PATCH
//! obeys the same rules as a PUT.
//!
//! What identity providers actually send is accepted: operation names in any case (Microsoft
//! Entra ID writes `Replace`), booleans as the strings `"True"`/`"False"`, path-less values
//! whose keys are paths (`"name.givenName"`), `id` inside a path-less value (Okta), `remove`
//! of `members` with the members to remove as its value, and `add`/`replace` through
//! `emails[type eq "work"].value` when no such email exists yet (a new one is made).
//! Attributes Marcus does not keep (enterprise extension, `title`, ...) are accepted and
//! dropped, so a provider's default attribute mappings do not fail provisioning. Removing a
//! required attribute (`userName`, `active`, a group's `displayName`) is `400 mutability`.

use super::error::ScimError;
use super::filter::eval_val_filter;
use super::json::{as_bool, get_ci, key_ci};
use super::schema::{AttrDef, Mutability, ResourceKind, ResourceSchema};
use super::{group_resource, user_resource};
use crate::group::GroupRecord;
use crate::user::UserRecord;
use scim_v2::filter::{AttrExp, CompValue, CompareOp, PatchPath, ValFilter};
use serde_json::{Map, Value};

/// The schema of a PATCH body.
pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// Applies a PATCH body to a user; `updated_at` becomes `now_ms` if anything changed. On an
/// error the user is left as it was.
pub fn apply_user_patch(user: &mut UserRecord, body: &Value, now_ms: u64) -> Result<(), ScimError> {
    let mut view = user_resource::writable_view(user);
    apply_operations(&mut view, ResourceKind::User.schema(), body)?;
    let next = user_resource::from_resource(&view, Some(user), user.updated_at)?;
    if next != *user {
        *user = next;
        user.updated_at = now_ms;
    }
    Ok(())
}

/// Applies a PATCH body to a group; `updated_at` becomes `now_ms` if anything changed. The
/// caller checks that added members are users of the tenant.
pub fn apply_group_patch(
    group: &mut GroupRecord,
    body: &Value,
    now_ms: u64,
) -> Result<(), ScimError> {
    let mut view = group_resource::writable_view(group);
    apply_operations(&mut view, ResourceKind::Group.schema(), body)?;
    let next = group_resource::from_resource(&view, Some(group), group.updated_at)?;
    if next != *group {
        *group = next;
        group.updated_at = now_ms;
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Replace,
    Remove,
}

fn apply_operations(
    view: &mut Value,
    schema: &'static ResourceSchema,
    body: &Value,
) -> Result<(), ScimError> {
    if !body.is_object() {
        return Err(ScimError::invalid_syntax(
            "a PATCH body must be a JSON object",
        ));
    }
    if let Some(schemas) = get_ci(body, "schemas") {
        let named = schemas.as_array().is_some_and(|l| {
            l.iter().any(|s| {
                s.as_str()
                    .is_some_and(|s| s.eq_ignore_ascii_case(PATCH_SCHEMA))
            })
        });
        if !named {
            return Err(ScimError::invalid_syntax(format!(
                "schemas must be [\"{PATCH_SCHEMA}\"]"
            )));
        }
    }
    let ops = get_ci(body, "Operations")
        .and_then(Value::as_array)
        .filter(|ops| !ops.is_empty())
        .ok_or_else(|| ScimError::invalid_syntax("Operations must be a non-empty list"))?;
    for operation in ops {
        let op = match get_ci(operation, "op").and_then(Value::as_str) {
            Some(s) if s.eq_ignore_ascii_case("add") => Op::Add,
            Some(s) if s.eq_ignore_ascii_case("replace") => Op::Replace,
            Some(s) if s.eq_ignore_ascii_case("remove") => Op::Remove,
            other => {
                return Err(ScimError::invalid_syntax(format!(
                    "unknown PATCH op {other:?}"
                )));
            }
        };
        let value = get_ci(operation, "value");
        match get_ci(operation, "path")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            Some(path) => apply_path(view, schema, op, &parse_path(path)?, value, false)?,
            None if op == Op::Remove => return Err(ScimError::no_target("remove needs a path")),
            None => {
                let Some(Value::Object(fields)) = value else {
                    return Err(ScimError::invalid_syntax(
                        "an operation without a path needs an object value",
                    ));
                };
                for (key, v) in fields {
                    if ["schemas", "id", "meta"]
                        .iter()
                        .any(|k| k.eq_ignore_ascii_case(key))
                    {
                        continue;
                    }
                    match key.parse::<PatchPath>() {
                        Ok(path) => apply_path(view, schema, op, &path, Some(v), true)?,
                        // An extension's whole object (`"urn:...:enterprise:2.0:User": {...}`).
                        Err(_) if key.to_ascii_lowercase().starts_with("urn:") => {}
                        Err(e) => return Err(ScimError::invalid_path(format!("{key}: {e}"))),
                    }
                }
            }
        }
    }
    Ok(())
}

fn parse_path(path: &str) -> Result<PatchPath, ScimError> {
    path.parse::<PatchPath>()
        .map_err(|e| ScimError::invalid_path(format!("path {path:?}: {e}")))
}

/// One operation on one path. `from_value_object` is set for the keys of a path-less value,
/// where server-owned attributes are skipped rather than refused.
fn apply_path(
    view: &mut Value,
    schema: &'static ResourceSchema,
    op: Op,
    path: &PatchPath,
    value: Option<&Value>,
    from_value_object: bool,
) -> Result<(), ScimError> {
    let attr = match path {
        PatchPath::Attr(a) => a,
        PatchPath::Value(vp) => &vp.attr,
    };
    if attr.uri.as_deref().is_some_and(|u| !schema.is_core(u)) {
        return Ok(());
    }
    let Some(def) = schema.attr(&attr.name) else {
        return Ok(());
    };
    if def.mutability == Mutability::ReadOnly {
        return if from_value_object {
            Ok(())
        } else {
            Err(ScimError::mutability(format!(
                "{} is set by the server",
                def.name
            )))
        };
    }
    if op == Op::Remove
        && def.required
        && matches!(path, PatchPath::Attr(a) if a.sub_attr.is_none())
    {
        // RFC 7644 §3.5.2: a required attribute may not become unassigned.
        return Err(ScimError::mutability(format!("{} is required", def.name)));
    }
    if op != Op::Remove && value.is_none() {
        return Err(ScimError::invalid_syntax(format!(
            "{path}: add and replace need a value"
        )));
    }
    let map = view
        .as_object_mut()
        .ok_or_else(|| ScimError::invalid_syntax("not an object"))?;
    match path {
        PatchPath::Attr(a) => match &a.sub_attr {
            None => on_attribute(map, def, op, value),
            Some(sub) => on_sub_attribute(map, def, sub, op, value),
        },
        PatchPath::Value(vp) => {
            if !def.multi_valued || def.sub.is_empty() {
                return Err(ScimError::invalid_path(format!(
                    "{path}: only lists of objects take a filter"
                )));
            }
            on_filtered(map, def, &vp.filter, vp.sub_attr.as_deref(), op, value)
        }
    }
}

fn take(map: &mut Map<String, Value>, name: &str) -> Option<Value> {
    key_ci(map, name).and_then(|k| map.remove(&k))
}

fn put(map: &mut Map<String, Value>, name: &str, value: Value) {
    take(map, name);
    map.insert(name.to_string(), value);
}

fn as_items(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.clone(),
        Value::Null => Vec::new(),
        other => vec![other.clone()],
    }
}

fn list(map: &mut Map<String, Value>, name: &str) -> Vec<Value> {
    take(map, name).map(|v| as_items(&v)).unwrap_or_default()
}

fn store_list(map: &mut Map<String, Value>, name: &str, items: Vec<Value>) {
    if !items.is_empty() {
        map.insert(name.to_string(), Value::Array(items));
    }
}

fn same_element(a: &Value, b: &Value) -> bool {
    match (get_ci(a, "value"), get_ci(b, "value")) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

fn is_primary(v: &Value) -> bool {
    get_ci(v, "primary").and_then(as_bool).unwrap_or(false)
}

/// Makes `keep` the only primary element, as setting a new primary implies (RFC 7643 §2.4).
fn single_primary(items: &mut [Value], keep: usize) {
    for (i, item) in items.iter_mut().enumerate() {
        if i != keep
            && is_primary(item)
            && let Some(m) = item.as_object_mut()
        {
            put(m, "primary", Value::Bool(false));
        }
    }
}

/// Merges an object's sub-attributes into another, keys matched without case.
fn merge(target: &mut Map<String, Value>, def: &AttrDef, fields: &Map<String, Value>) {
    for (k, v) in fields {
        let name = def.sub_attr(k).map_or(k.as_str(), |d| d.name);
        put(target, name, v.clone());
    }
}

fn on_attribute(
    map: &mut Map<String, Value>,
    def: &AttrDef,
    op: Op,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let name = def.name;
    if def.multi_valued {
        let mut items = list(map, name);
        match (op, value) {
            (Op::Remove, Some(v)) if !v.is_null() => {
                let gone = as_items(v);
                items.retain(|e| !gone.iter().any(|g| same_element(e, g)));
            }
            (Op::Remove, _) => items.clear(),
            (Op::Replace, Some(v)) => {
                items = as_items(v);
            }
            (Op::Add, Some(v)) => {
                for new in as_items(v) {
                    match items.iter().position(|e| same_element(e, &new)) {
                        Some(i) => items[i] = new,
                        None => items.push(new),
                    }
                    if let Some(i) = items.iter().rposition(is_primary) {
                        single_primary(&mut items, i);
                    }
                }
            }
            (_, None) => unreachable!("checked by apply_path"),
        }
        store_list(map, name, items);
        return Ok(());
    }
    match (op, value) {
        (Op::Remove, _) => {
            take(map, name);
        }
        (_, Some(Value::Object(fields))) if !def.sub.is_empty() => {
            // A complex attribute: the given sub-attributes are set, the others left alone.
            let mut current = match take(map, name) {
                Some(Value::Object(m)) => m,
                _ => Map::new(),
            };
            merge(&mut current, def, fields);
            map.insert(name.to_string(), Value::Object(current));
        }
        (_, Some(_)) if !def.sub.is_empty() => {
            return Err(ScimError::invalid_value(format!("{name} takes an object")));
        }
        (_, Some(v)) => put(map, name, v.clone()),
        (_, None) => unreachable!("checked by apply_path"),
    }
    Ok(())
}

fn on_sub_attribute(
    map: &mut Map<String, Value>,
    def: &AttrDef,
    sub: &str,
    op: Op,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let sub_name = def.sub_attr(sub).map_or(sub, |d| d.name);
    if def.multi_valued {
        let mut items = list(map, def.name);
        if items.is_empty() && op != Op::Remove {
            items.push(Value::Object(Map::new()));
        }
        for item in items.iter_mut() {
            if let Some(m) = item.as_object_mut() {
                set_or_remove(m, sub_name, op, value);
            }
        }
        store_list(map, def.name, items);
        return Ok(());
    }
    let mut current = match take(map, def.name) {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    set_or_remove(&mut current, sub_name, op, value);
    if !current.is_empty() {
        map.insert(def.name.to_string(), Value::Object(current));
    }
    Ok(())
}

fn set_or_remove(m: &mut Map<String, Value>, name: &str, op: Op, value: Option<&Value>) {
    match (op, value) {
        (Op::Remove, _) | (_, None) => {
            take(m, name);
        }
        (_, Some(v)) => put(m, name, v.clone()),
    }
}

/// The `attr eq value` terms of a filter made only of them, joined by `and`: what a new
/// element must hold to match the filter.
fn equalities(filter: &ValFilter) -> Option<Vec<(String, Value)>> {
    match filter {
        ValFilter::Attr(AttrExp::Comparison(path, CompareOp::Eq, v)) if path.sub_attr.is_none() => {
            let value = match v {
                CompValue::Str(s) => Value::String(s.clone()),
                CompValue::True => Value::Bool(true),
                CompValue::False => Value::Bool(false),
                CompValue::Number(n) => Value::Number(n.clone()),
                CompValue::Null => return None,
            };
            Some(vec![(path.name.clone(), value)])
        }
        ValFilter::And(items) => {
            let mut out = Vec::new();
            for f in items.iter() {
                out.extend(equalities(f)?);
            }
            Some(out)
        }
        _ => None,
    }
}

fn on_filtered(
    map: &mut Map<String, Value>,
    def: &'static AttrDef,
    filter: &ValFilter,
    sub: Option<&str>,
    op: Op,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let mut items = list(map, def.name);
    let sub_defs = def.sub;
    let mut matched = Vec::new();
    for (i, e) in items.iter().enumerate() {
        if eval_val_filter(filter, sub_defs, e)? {
            matched.push(i);
        }
    }
    let sub_name = sub.map(|s| def.sub_attr(s).map_or(s, |d| d.name));
    let result = (|| {
        match op {
            Op::Remove => match sub_name {
                Some(s) => {
                    for &i in &matched {
                        if let Some(m) = items[i].as_object_mut() {
                            take(m, s);
                        }
                    }
                }
                None => {
                    let mut i = 0;
                    items.retain(|_| {
                        i += 1;
                        !matched.contains(&(i - 1))
                    });
                }
            },
            Op::Add | Op::Replace if matched.is_empty() => {
                // Nothing matches: a filter of plain equalities describes the element to
                // make, as Entra ID expects of `emails[type eq "work"].value`.
                let Some(terms) =
                    equalities(filter).filter(|_| op == Op::Add || sub_name.is_some())
                else {
                    return Err(ScimError::no_target(format!(
                        "no {} matches the filter",
                        def.name
                    )));
                };
                let mut element = Map::new();
                for (k, v) in terms {
                    put(
                        &mut element,
                        def.sub_attr(&k).map_or(k.as_str(), |d| d.name),
                        v,
                    );
                }
                match (sub_name, value) {
                    (Some(s), Some(v)) => put(&mut element, s, v.clone()),
                    (None, Some(Value::Object(fields))) => merge(&mut element, def, fields),
                    _ => {
                        return Err(ScimError::invalid_value(format!(
                            "{} takes an object",
                            def.name
                        )));
                    }
                }
                items.push(Value::Object(element));
                let last = items.len() - 1;
                if is_primary(&items[last]) {
                    single_primary(&mut items, last);
                }
            }
            Op::Add | Op::Replace => {
                for &i in &matched {
                    match (sub_name, value) {
                        (Some(s), Some(v)) => {
                            if let Some(m) = items[i].as_object_mut() {
                                put(m, s, v.clone());
                            }
                        }
                        (None, Some(Value::Object(fields))) if op == Op::Add => {
                            if let Some(m) = items[i].as_object_mut() {
                                merge(m, def, fields);
                            }
                        }
                        (None, Some(v @ Value::Object(_))) => items[i] = v.clone(),
                        _ => {
                            return Err(ScimError::invalid_value(format!(
                                "{} takes an object",
                                def.name
                            )));
                        }
                    }
                }
                if let Some(&i) = matched.iter().rev().find(|&&i| is_primary(&items[i])) {
                    single_primary(&mut items, i);
                }
            }
        }
        Ok(())
    })();
    store_list(map, def.name, items);
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::group::Member;
    use crate::user::Email;
    use serde_json::json;

    fn user() -> UserRecord {
        let mut u = UserRecord::new("u1", "acme", "bjensen", 10);
        u.given_name = Some("Barbara".into());
        u.family_name = Some("Jensen".into());
        u.emails = vec![
            Email {
                value: "b@work.example".into(),
                kind: Some("work".into()),
                primary: true,
            },
            Email {
                value: "b@home.example".into(),
                kind: Some("home".into()),
                primary: false,
            },
        ];
        u
    }

    fn group() -> GroupRecord {
        GroupRecord {
            id: "g1".into(),
            tenant: "acme".into(),
            display_name: "Eng".into(),
            external_id: None,
            members: vec![
                Member {
                    value: "u1".into(),
                    display: None,
                },
                Member {
                    value: "u2".into(),
                    display: None,
                },
            ],
            created_at: 10,
            updated_at: 10,
        }
    }

    fn patch(ops: Value) -> Value {
        json!({"schemas": [PATCH_SCHEMA], "Operations": ops})
    }

    #[test]
    fn entra_id_deactivates_with_a_capitalised_op_and_a_string_boolean() {
        let mut u = user();
        apply_user_patch(
            &mut u,
            &patch(json!([{"op": "Replace", "path": "active", "value": "False"}])),
            99,
        )
        .unwrap();
        assert!(!u.active);
        assert_eq!(u.updated_at, 99);
        apply_user_patch(
            &mut u,
            &patch(json!([{"op": "replace", "path": "active", "value": "True"}])),
            100,
        )
        .unwrap();
        assert!(u.active);
    }

    #[test]
    fn okta_deactivates_with_a_path_less_replace() {
        let mut u = user();
        apply_user_patch(
            &mut u,
            &patch(json!([{"op": "replace", "value": {"active": false}}])),
            50,
        )
        .unwrap();
        assert!(!u.active);
        assert_eq!(u.given_name.as_deref(), Some("Barbara"));
    }

    #[test]
    fn entra_id_attribute_updates() {
        let mut u = user();
        let body = patch(json!([
            {"op": "Replace", "path": "userName", "value": "babs@example.com"},
            {"op": "Add", "path": "displayName", "value": "Babs"},
            {"op": "Replace", "path": "name.givenName", "value": "Babs"},
            {"op": "Add", "path": "externalId", "value": "aad-123"},
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "babs@work.example"},
            {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "R&D"},
            {"op": "Add", "path": "title", "value": "Engineer"}
        ]));
        apply_user_patch(&mut u, &body, 77).unwrap();
        assert_eq!(u.user_name, "babs@example.com");
        assert_eq!(u.display_name.as_deref(), Some("Babs"));
        assert_eq!(u.given_name.as_deref(), Some("Babs"));
        assert_eq!(u.family_name.as_deref(), Some("Jensen"));
        assert_eq!(u.external_id.as_deref(), Some("aad-123"));
        assert_eq!(
            u.emails[0],
            Email {
                value: "babs@work.example".into(),
                kind: Some("work".into()),
                primary: true
            }
        );
        assert_eq!(u.emails[1].value, "b@home.example");
    }

    #[test]
    fn filtered_path_with_no_match_makes_the_element() {
        let mut u = user();
        let body = patch(
            json!([{"op": "add", "path": "emails[type eq \"other\"].value", "value": "b@other.example"}]),
        );
        apply_user_patch(&mut u, &body, 1).unwrap();
        assert_eq!(u.emails.len(), 3);
        assert_eq!(
            u.emails[2],
            Email {
                value: "b@other.example".into(),
                kind: Some("other".into()),
                primary: false
            }
        );
        // A filter that is not plain equalities cannot describe a new element.
        let body = patch(
            json!([{"op": "replace", "path": "emails[value co \"nowhere\"]", "value": {"value": "x@y"}}]),
        );
        let e = apply_user_patch(&mut u, &body, 2).unwrap_err();
        assert_eq!(e.scim_type, Some("noTarget"));
        assert_eq!(u.emails.len(), 3, "a failed patch leaves the user alone");
    }

    #[test]
    fn path_less_keys_may_be_paths() {
        let mut u = user();
        let body = patch(json!([{"op": "add", "value": {
            "name.familyName": "Doe",
            "emails[type eq \"work\"].value": "new@work.example",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "x"},
            "urn:ietf:params:scim:schemas:core:2.0:User:displayName": "B. Doe"
        }}]));
        apply_user_patch(&mut u, &body, 1).unwrap();
        assert_eq!(u.family_name.as_deref(), Some("Doe"));
        assert_eq!(u.emails[0].value, "new@work.example");
        assert_eq!(u.display_name.as_deref(), Some("B. Doe"));
    }

    #[test]
    fn emails_add_replace_remove_and_the_single_primary() {
        let mut u = user();
        let body = patch(
            json!([{"op": "add", "path": "emails", "value": [{"value": "c@x", "type": "work", "primary": true}]}]),
        );
        apply_user_patch(&mut u, &body, 1).unwrap();
        assert_eq!(u.emails.len(), 3);
        assert_eq!(
            u.emails
                .iter()
                .filter(|e| e.primary)
                .map(|e| e.value.as_str())
                .collect::<Vec<_>>(),
            vec!["c@x"]
        );
        apply_user_patch(
            &mut u,
            &patch(json!([{"op": "remove", "path": "emails[type eq \"home\"]"}])),
            2,
        )
        .unwrap();
        assert_eq!(
            u.emails
                .iter()
                .map(|e| e.value.as_str())
                .collect::<Vec<_>>(),
            vec!["b@work.example", "c@x"]
        );
        apply_user_patch(
            &mut u,
            &patch(json!([{"op": "replace", "path": "emails", "value": [{"value": "only@x"}]}])),
            3,
        )
        .unwrap();
        assert_eq!(
            u.emails,
            vec![Email {
                value: "only@x".into(),
                kind: None,
                primary: false
            }]
        );
        apply_user_patch(
            &mut u,
            &patch(json!([{"op": "remove", "path": "emails"}])),
            4,
        )
        .unwrap();
        assert!(u.emails.is_empty());
    }

    #[test]
    fn remove_clears_attributes_and_sub_attributes() {
        let mut u = user();
        apply_user_patch(
            &mut u,
            &patch(json!([{"op": "remove", "path": "name.givenName"}])),
            1,
        )
        .unwrap();
        assert_eq!(u.given_name, None);
        assert_eq!(u.family_name.as_deref(), Some("Jensen"));
        apply_user_patch(&mut u, &patch(json!([{"op": "remove", "path": "name"}])), 1).unwrap();
        assert_eq!(u.family_name, None);
        apply_user_patch(
            &mut u,
            &patch(json!([{"op": "remove", "path": "emails[type eq \"work\"].type"}])),
            1,
        )
        .unwrap();
        assert_eq!(u.emails[0].kind, None);
        for required in ["userName", "active"] {
            let e = apply_user_patch(
                &mut u,
                &patch(json!([{"op": "remove", "path": required}])),
                1,
            )
            .unwrap_err();
            assert_eq!(e.scim_type, Some("mutability"), "{required}");
        }
        let mut g = group();
        let e = apply_group_patch(
            &mut g,
            &patch(json!([{"op": "remove", "path": "displayName"}])),
            1,
        )
        .unwrap_err();
        assert_eq!(e.scim_type, Some("mutability"));
    }

    #[test]
    fn refusals() {
        let mut u = user();
        let cases = [
            (json!([{"op": "remove"}]), "noTarget"),
            (
                json!([{"op": "replace", "path": "id", "value": "x"}]),
                "mutability",
            ),
            (
                json!([{"op": "add", "path": "groups", "value": [{"value": "g1"}]}]),
                "mutability",
            ),
            (
                json!([{"op": "replace", "path": "meta.version", "value": "x"}]),
                "mutability",
            ),
            (
                json!([{"op": "move", "path": "userName", "value": "x"}]),
                "invalidSyntax",
            ),
            (
                json!([{"op": "replace", "path": "emails[type eq", "value": "x"}]),
                "invalidPath",
            ),
            (
                json!([{"op": "replace", "path": "name[givenName eq \"x\"]", "value": "x"}]),
                "invalidPath",
            ),
            (
                json!([{"op": "replace", "path": "userName"}]),
                "invalidSyntax",
            ),
            (
                json!([{"op": "replace", "value": "not an object"}]),
                "invalidSyntax",
            ),
            (
                json!([{"op": "replace", "path": "active", "value": "perhaps"}]),
                "invalidValue",
            ),
            (json!([]), "invalidSyntax"),
        ];
        for (ops, kind) in cases {
            let e = apply_user_patch(&mut u, &patch(ops.clone()), 1).unwrap_err();
            assert_eq!(e.scim_type, Some(kind), "{ops}");
        }
        let e = apply_user_patch(&mut u, &json!({"schemas": ["urn:x"], "Operations": [{"op": "add", "path": "displayName", "value": "x"}]}), 1).unwrap_err();
        assert_eq!(e.scim_type, Some("invalidSyntax"));
        assert_eq!(u, user());
    }

    #[test]
    fn nothing_changed_keeps_the_time() {
        let mut u = user();
        apply_user_patch(
            &mut u,
            &patch(json!([{"op": "replace", "path": "userName", "value": "bjensen"}])),
            500,
        )
        .unwrap();
        assert_eq!(u.updated_at, 10);
    }

    #[test]
    fn okta_group_membership_and_rename() {
        let mut g = group();
        let body = patch(json!([
            {"op": "add", "path": "members", "value": [{"value": "u3", "display": "c@x"}, {"value": "u1"}]}
        ]));
        apply_group_patch(&mut g, &body, 20).unwrap();
        assert_eq!(g.member_ids().collect::<Vec<_>>(), vec!["u1", "u2", "u3"]);
        assert_eq!(g.members[2].display.as_deref(), Some("c@x"));
        assert_eq!(g.updated_at, 20);
        apply_group_patch(
            &mut g,
            &patch(json!([{"op": "remove", "path": "members[value eq \"u2\"]"}])),
            21,
        )
        .unwrap();
        assert_eq!(g.member_ids().collect::<Vec<_>>(), vec!["u1", "u3"]);
        apply_group_patch(
            &mut g,
            &patch(json!([{"op": "replace", "value": {"id": "g1", "displayName": "Platform"}}])),
            22,
        )
        .unwrap();
        assert_eq!(g.display_name, "Platform");
        assert_eq!(g.id, "g1");
        apply_group_patch(
            &mut g,
            &patch(json!([{"op": "replace", "path": "members", "value": [{"value": "u9"}]}])),
            23,
        )
        .unwrap();
        assert_eq!(g.member_ids().collect::<Vec<_>>(), vec!["u9"]);
    }

    #[test]
    fn entra_id_group_membership() {
        let mut g = group();
        let body = json!({
            "schemas": [PATCH_SCHEMA],
            "Operations": [
                {"op": "Add", "path": "members", "value": [{"value": "u5"}]},
                {"op": "Remove", "path": "members", "value": [{"value": "u1"}]}
            ]
        });
        apply_group_patch(&mut g, &body, 5).unwrap();
        assert_eq!(g.member_ids().collect::<Vec<_>>(), vec!["u2", "u5"]);
        // Removing one who is not a member changes nothing and is no error.
        apply_group_patch(
            &mut g,
            &patch(json!([{"op": "Remove", "path": "members[value eq \"nobody\"]"}])),
            6,
        )
        .unwrap();
        assert_eq!(g.updated_at, 5);
        apply_group_patch(
            &mut g,
            &patch(json!([{"op": "Remove", "path": "members"}])),
            7,
        )
        .unwrap();
        assert!(g.members.is_empty());
        let nested = patch(
            json!([{"op": "add", "path": "members", "value": [{"value": "g2", "type": "Group"}]}]),
        );
        assert_eq!(
            apply_group_patch(&mut g, &nested, 8).unwrap_err().scim_type,
            Some("invalidValue")
        );
    }
}
