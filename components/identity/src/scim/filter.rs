//! SCIM filters (RFC 7644 §3.4.2.2), evaluated on a resource's JSON. Parsing is the
//! `scim_v2` crate's grammar, which bounds nesting and size; what a comparison means
//! (case, times, several values) is decided here from the attribute table in
//! [`super::schema`].

use super::error::ScimError;
use super::json::get_ci;
use super::schema::{AttrDef, AttrType, ResourceKind, ResourceSchema};
use super::time::parse_rfc3339;
use scim_v2::filter::{AttrExp, AttrPath, CompValue, CompareOp, Filter, ValFilter};
use serde_json::Value;
use std::cmp::Ordering;

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub struct ScimFilter(Filter);

impl ScimFilter {
    /// Parses a `filter` query parameter; a filter that does not parse is `400 invalidFilter`.
    pub fn parse(text: &str) -> Result<Self, ScimError> {
        text.parse::<Filter>()
            .map(ScimFilter)
            .map_err(|e| ScimError::invalid_filter(format!("filter {text:?}: {e}")))
    }

    /// Whether a resource (as [`super::user_resource::to_resource`] or
    /// [`super::group_resource::to_resource`] writes it) matches; ordering comparisons on
    /// booleans are `400 invalidFilter` (RFC 7644 §3.4.2.2).
    pub fn matches(&self, kind: ResourceKind, resource: &Value) -> Result<bool, ScimError> {
        eval(&self.0, kind.schema(), resource)
    }

    /// The value of a top-level `attribute eq "value"` filter (attribute matched without
    /// case), so storage can look the one resource up by index instead of scanning: the
    /// `userName eq` and `externalId eq` lookups identity providers send before creating.
    pub fn equality(&self, attribute: &str) -> Option<&str> {
        match &self.0 {
            Filter::Attr(AttrExp::Comparison(path, CompareOp::Eq, CompValue::Str(v)))
                if path.sub_attr.is_none() && path.name.eq_ignore_ascii_case(attribute) =>
            {
                Some(v)
            }
            _ => None,
        }
    }
}

impl std::fmt::Display for ScimFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

fn eval(
    filter: &Filter,
    schema: &'static ResourceSchema,
    resource: &Value,
) -> Result<bool, ScimError> {
    Ok(match filter {
        Filter::Attr(exp) => eval_exp(exp, Scope::Resource(schema), resource)?,
        Filter::Not(inner) => !eval(inner, schema, resource)?,
        Filter::And(items) => {
            for f in items.iter() {
                if !eval(f, schema, resource)? {
                    return Ok(false);
                }
            }
            true
        }
        Filter::Or(items) => {
            for f in items.iter() {
                if eval(f, schema, resource)? {
                    return Ok(true);
                }
            }
            false
        }
        Filter::ValuePath(vp) => {
            let Some((def, value)) = resolve_top(&vp.attr, schema, resource) else {
                return Ok(false);
            };
            let sub = def.map(|d| d.sub).unwrap_or(&[]);
            for element in as_list(value) {
                if eval_val_filter(&vp.filter, sub, element)? {
                    return Ok(true);
                }
            }
            false
        }
    })
}

/// Whether one element of a multi-valued complex attribute matches a bracketed filter,
/// given the attribute's sub-attributes; PATCH paths select elements with this too.
pub(crate) fn eval_val_filter(
    filter: &ValFilter,
    sub: &'static [AttrDef],
    element: &Value,
) -> Result<bool, ScimError> {
    Ok(match filter {
        ValFilter::Attr(exp) => eval_exp(exp, Scope::Element(sub), element)?,
        ValFilter::Not(inner) => !eval_val_filter(inner, sub, element)?,
        ValFilter::And(items) => {
            for f in items.iter() {
                if !eval_val_filter(f, sub, element)? {
                    return Ok(false);
                }
            }
            true
        }
        ValFilter::Or(items) => {
            for f in items.iter() {
                if eval_val_filter(f, sub, element)? {
                    return Ok(true);
                }
            }
            false
        }
    })
}

/// Where attribute names are looked up: a resource's schema, or a complex attribute's
/// sub-attributes inside brackets.
#[derive(Clone, Copy)]
enum Scope {
    Resource(&'static ResourceSchema),
    Element(&'static [AttrDef]),
}

/// The attribute a path names at the top of a resource, with its definition when Marcus
/// knows it; an extension's attributes are looked for under the extension's URN.
fn resolve_top<'v>(
    path: &AttrPath,
    schema: &'static ResourceSchema,
    resource: &'v Value,
) -> Option<(Option<&'static AttrDef>, &'v Value)> {
    match &path.uri {
        Some(uri) if !schema.is_core(uri) => {
            let value = get_ci(get_ci(resource, uri)?, &path.name)?;
            Some((None, value))
        }
        _ => Some((schema.attr(&path.name), get_ci(resource, &path.name)?)),
    }
}

/// The values a path designates, flattened over lists, each with the definition that says
/// how to compare it.
fn leaves<'v>(
    path: &AttrPath,
    scope: Scope,
    object: &'v Value,
) -> (Option<&'static AttrDef>, Vec<&'v Value>) {
    let top = match scope {
        Scope::Resource(schema) => resolve_top(path, schema, object),
        Scope::Element(sub) => {
            get_ci(object, &path.name).map(|v| (super::schema::find(sub, &path.name), v))
        }
    };
    let Some((def, value)) = top else {
        return (def_only(path, scope), Vec::new());
    };
    match &path.sub_attr {
        Some(sub_name) => {
            let sub_def = def.and_then(|d| d.sub_attr(sub_name));
            let values = as_list(value)
                .filter_map(|e| get_ci(e, sub_name))
                .flat_map(as_list)
                .collect();
            (sub_def, values)
        }
        None => {
            // A complex value compared as a whole is compared by its `value` sub-attribute,
            // as `emails eq "..."` intends.
            let mut values = Vec::new();
            let mut leaf_def = def;
            for e in as_list(value) {
                if e.is_object() {
                    if let Some(v) = get_ci(e, "value") {
                        values.push(v);
                        leaf_def = def.and_then(|d| d.sub_attr("value")).or(leaf_def);
                    }
                } else {
                    values.push(e);
                }
            }
            (leaf_def, values)
        }
    }
}

fn def_only(path: &AttrPath, scope: Scope) -> Option<&'static AttrDef> {
    let def = match scope {
        Scope::Resource(schema) => schema.attr(&path.name),
        Scope::Element(sub) => super::schema::find(sub, &path.name),
    }?;
    match &path.sub_attr {
        Some(s) => def.sub_attr(s),
        None => Some(def),
    }
}

fn as_list(value: &Value) -> impl Iterator<Item = &Value> {
    match value {
        Value::Array(items) => items.iter().collect::<Vec<_>>().into_iter(),
        other => vec![other].into_iter(),
    }
}

fn present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => a.iter().any(present),
        Value::Object(o) => !o.is_empty(),
        _ => true,
    }
}

fn eval_exp(exp: &AttrExp, scope: Scope, object: &Value) -> Result<bool, ScimError> {
    match exp {
        AttrExp::Present(path) => {
            let (_, values) = leaves(path, scope, object);
            Ok(values.into_iter().any(present))
        }
        AttrExp::Comparison(path, op, cv) => {
            let (def, values) = leaves(path, scope, object);
            let values: Vec<&Value> = values.into_iter().filter(|v| !v.is_null()).collect();
            if matches!(cv, CompValue::Null) {
                return match op {
                    CompareOp::Eq => Ok(!values.iter().any(|v| present(v))),
                    CompareOp::Ne => Ok(values.iter().any(|v| present(v))),
                    _ => Err(ScimError::invalid_filter(format!(
                        "{path} {op} null compares nothing"
                    ))),
                };
            }
            if is_boolean(def, cv) && !matches!(op, CompareOp::Eq | CompareOp::Ne) {
                return Err(ScimError::invalid_filter(format!(
                    "{path} is a boolean: only eq and ne apply"
                )));
            }
            if let CompareOp::Ne = op {
                let mut any_equal = false;
                for v in &values {
                    any_equal |= compare(v, &CompareOp::Eq, cv, def);
                }
                return Ok(!any_equal);
            }
            Ok(values.iter().any(|v| compare(v, op, cv, def)))
        }
    }
}

fn is_boolean(def: Option<&AttrDef>, cv: &CompValue) -> bool {
    matches!(def.map(|d| d.kind), Some(AttrType::Boolean))
        || matches!(cv, CompValue::True | CompValue::False)
}

/// One value against the filter's value: strings by the attribute's case rule, times as
/// times, numbers as numbers; values of different types never match.
fn compare(value: &Value, op: &CompareOp, cv: &CompValue, def: Option<&AttrDef>) -> bool {
    match (value, cv) {
        (Value::Bool(b), CompValue::True) => *b && matches!(op, CompareOp::Eq),
        (Value::Bool(b), CompValue::False) => !*b && matches!(op, CompareOp::Eq),
        // Some identity providers store booleans as text; `active eq true` still finds them.
        (Value::String(s), CompValue::True | CompValue::False) if matches!(op, CompareOp::Eq) => s
            .eq_ignore_ascii_case(if matches!(cv, CompValue::True) {
                "true"
            } else {
                "false"
            }),
        (Value::Number(n), CompValue::Number(m)) => match (n.as_f64(), m.as_f64()) {
            (Some(a), Some(b)) => ordering_matches(op, a.partial_cmp(&b)),
            _ => false,
        },
        (Value::String(s), CompValue::Str(t)) => {
            let is_time = matches!(def.map(|d| d.kind), Some(AttrType::DateTime));
            if is_time
                && !matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew)
                && let (Some(a), Some(b)) = (parse_rfc3339(s), parse_rfc3339(t))
            {
                return ordering_matches(op, Some(a.cmp(&b)));
            }
            let case_exact = def.is_some_and(|d| d.case_exact);
            let (a, b) = if case_exact {
                (s.clone(), t.clone())
            } else {
                (s.to_lowercase(), t.to_lowercase())
            };
            match op {
                CompareOp::Co => a.contains(&b),
                CompareOp::Sw => a.starts_with(&b),
                CompareOp::Ew => a.ends_with(&b),
                _ => ordering_matches(op, Some(a.cmp(&b))),
            }
        }
        _ => false,
    }
}

fn ordering_matches(op: &CompareOp, ord: Option<Ordering>) -> bool {
    let Some(ord) = ord else { return false };
    match op {
        CompareOp::Eq => ord == Ordering::Equal,
        CompareOp::Ne => ord != Ordering::Equal,
        CompareOp::Gt => ord == Ordering::Greater,
        CompareOp::Ge => ord != Ordering::Less,
        CompareOp::Lt => ord == Ordering::Less,
        CompareOp::Le => ord != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user() -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": "2819c223",
            "externalId": "Ext-1",
            "userName": "BJensen@Example.com",
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "displayName": "Babs Jensen",
            "emails": [
                {"value": "bjensen@example.com", "type": "work", "primary": true},
                {"value": "babs@jensen.org", "type": "home"}
            ],
            "active": true,
            "meta": {"resourceType": "User", "created": "2011-05-13T04:42:34.000Z", "lastModified": "2011-05-13T04:42:34.000Z", "version": "W/\"3\""}
        })
    }

    fn m(filter: &str) -> bool {
        ScimFilter::parse(filter)
            .unwrap()
            .matches(ResourceKind::User, &user())
            .unwrap()
    }

    #[test]
    fn user_name_is_compared_without_case_but_ids_with_case() {
        assert!(m(r#"userName eq "bjensen@example.com""#));
        assert!(m(r#"USERNAME Eq "BJENSEN@EXAMPLE.COM""#));
        assert!(!m(r#"userName eq "bjensen""#));
        assert!(m(r#"externalId eq "Ext-1""#));
        assert!(!m(r#"externalId eq "ext-1""#));
        assert!(m(r#"id eq "2819c223""#));
    }

    #[test]
    fn every_operator() {
        assert!(m(r#"userName ne "someone""#));
        assert!(!m(r#"userName ne "BJENSEN@example.com""#));
        assert!(m(r#"userName co "jensen@""#));
        assert!(m(r#"userName sw "bj""#));
        assert!(!m(r#"userName sw "jensen""#));
        assert!(m(r#"userName ew ".COM""#));
        assert!(!m(r#"title pr"#));
        assert!(m(r#"displayName pr"#));
        assert!(m(r#"userName gt "a""#));
        assert!(m(r#"userName ge "bjensen@example.com""#));
        assert!(m(r#"userName le "bjensen@example.com""#));
        assert!(!m(r#"userName lt "b""#));
    }

    #[test]
    fn sub_attributes_and_multi_valued_attributes() {
        assert!(m(r#"name.givenName eq "barbara""#));
        assert!(m(r#"name.familyName sw "Jen""#));
        assert!(m(r#"emails.value eq "babs@jensen.org""#));
        assert!(m(r#"emails eq "babs@jensen.org""#));
        assert!(m(r#"emails co "example.com""#));
        assert!(!m(r#"emails.value eq "nobody@example.com""#));
        assert!(m(r#"emails.type eq "home""#));
        assert!(m(
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "bjensen""#
        ));
    }

    #[test]
    fn bracketed_filters_match_within_one_element() {
        assert!(m(r#"emails[type eq "work" and value co "example.com"]"#));
        assert!(!m(r#"emails[type eq "work" and value co "jensen.org"]"#));
        assert!(m(r#"emails[type eq "home" or primary eq true]"#));
        assert!(m(r#"emails[not (type eq "work")]"#));
        assert!(m(r#"userName sw "b" and emails[type eq "work"]"#));
    }

    #[test]
    fn and_or_not_and_parentheses() {
        assert!(m(r#"userName sw "b" and active eq true"#));
        assert!(!m(r#"userName sw "b" and active eq false"#));
        assert!(m(r#"userName sw "x" or displayName co "babs""#));
        assert!(!m(r#"not (userName sw "b")"#));
        assert!(m(
            r#"not (userName sw "x") and (displayName eq "nope" or name.givenName eq "BARBARA")"#
        ));
        // `and` binds tighter than `or`.
        assert!(m(
            r#"userName eq "x" and displayName eq "x" or active eq true"#
        ));
        assert!(!m(
            r#"userName eq "x" and (displayName eq "x" or active eq true)"#
        ));
        assert!(m(r#"userName eq "x" Or active EQ true"#));
    }

    #[test]
    fn times_compare_as_times() {
        assert!(m(r#"meta.lastModified gt "2011-05-13T04:42:33Z""#));
        assert!(m(r#"meta.lastModified ge "2011-05-13T06:42:34+02:00""#));
        assert!(m(r#"meta.lastModified eq "2011-05-13T04:42:34Z""#));
        assert!(!m(r#"meta.lastModified lt "2011-05-13T04:42:34Z""#));
        assert!(m(r#"meta.resourceType eq "User""#));
        assert!(!m(r#"meta.resourceType eq "user""#));
    }

    #[test]
    fn missing_attributes_and_null() {
        assert!(!m(r#"title eq "x""#));
        assert!(m(r#"title ne "x""#));
        assert!(m(r#"title eq null"#));
        assert!(!m(r#"userName eq null"#));
    }

    #[test]
    fn bad_filters_are_invalid_filter() {
        for bad in [
            "",
            "userName",
            r#"userName eq"#,
            r#"userName zz "x""#,
            r#"(userName eq "x""#,
            r#"userName eq "x" and"#,
        ] {
            let e = ScimFilter::parse(bad).unwrap_err();
            assert_eq!(
                (e.status, e.scim_type),
                (400, Some("invalidFilter")),
                "{bad}"
            );
        }
        let e = ScimFilter::parse("active gt true")
            .unwrap()
            .matches(ResourceKind::User, &user())
            .unwrap_err();
        assert_eq!(e.scim_type, Some("invalidFilter"));
    }

    #[test]
    fn equality_lookups_are_recognised() {
        let f = ScimFilter::parse(r#"userName eq "bjensen""#).unwrap();
        assert_eq!(f.equality("username"), Some("bjensen"));
        assert_eq!(f.equality("externalId"), None);
        assert_eq!(
            ScimFilter::parse(r#"userName eq "a" or userName eq "b""#)
                .unwrap()
                .equality("userName"),
            None
        );
    }

    #[test]
    fn groups_filter_on_members() {
        let g = json!({"id": "g1", "displayName": "Eng", "members": [{"value": "u1", "type": "User"}, {"value": "u2"}]});
        let f = ScimFilter::parse(r#"members[value eq "u2"]"#).unwrap();
        assert!(f.matches(ResourceKind::Group, &g).unwrap());
        let f = ScimFilter::parse(r#"members.value eq "U2""#).unwrap();
        assert!(!f.matches(ResourceKind::Group, &g).unwrap());
        let f = ScimFilter::parse(r#"displayName eq "eng""#).unwrap();
        assert!(f.matches(ResourceKind::Group, &g).unwrap());
    }
}
