//! Listing resources (RFC 7644 §3.4.2): the query parameters `filter`, `startIndex`,
//! `count`, `attributes` and `excludedAttributes`, a page of the matches, and the
//! `ListResponse` around it.

use super::error::ScimError;
use super::filter::ScimFilter;
use super::json::get_ci;
use super::schema::{ResourceKind, Returned};
use serde_json::{Map, Value, json};
use std::ops::Range;

/// The schema of a list answer.
pub const LIST_RESPONSE_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// The schema of a `POST .../.search` body.
pub const SEARCH_REQUEST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
/// The most resources one page holds, also the page size when `count` is not given; the
/// ServiceProviderConfig advertises it.
pub const MAX_RESULTS: usize = 200;

/// What a client asked a list (or a single resource's `GET`) for.
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    /// Only resources matching this.
    pub filter: Option<ScimFilter>,
    /// The 1-based position of the page's first resource among the matches.
    pub start_index: usize,
    /// The page size, at most [`MAX_RESULTS`]; `0` asks only for `totalResults`.
    pub count: usize,
    /// Return only these attributes (and those always returned).
    pub attributes: Vec<String>,
    /// Return all but these.
    pub excluded_attributes: Vec<String>,
}

impl Default for ListQuery {
    fn default() -> Self {
        Self {
            filter: None,
            start_index: 1,
            count: MAX_RESULTS,
            attributes: Vec::new(),
            excluded_attributes: Vec::new(),
        }
    }
}

impl ListQuery {
    /// From a raw, percent-encoded query string (`filter=userName%20eq%20%22b%22&count=10`).
    pub fn from_query(query: &str) -> Result<Self, ScimError> {
        let pairs: Vec<(String, String)> = query
            .trim_start_matches('?')
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (percent_decode(k), percent_decode(v))
            })
            .collect();
        Self::from_params(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    /// From decoded query parameters; names match without case, unknown ones are ignored.
    /// `startIndex` below 1 counts as 1 and a negative `count` as 0 (RFC 7644 §3.4.2.4); a
    /// number that is not one is `400 invalidValue`, a bad filter `400 invalidFilter`.
    pub fn from_params<'a>(
        params: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, ScimError> {
        let mut q = Self::default();
        for (name, value) in params {
            let value = value.trim();
            match name.to_ascii_lowercase().as_str() {
                "filter" if !value.is_empty() => q.filter = Some(ScimFilter::parse(value)?),
                "startindex" => q.start_index = integer(name, value)?.max(1) as usize,
                "count" => q.count = (integer(name, value)?.max(0) as usize).min(MAX_RESULTS),
                "attributes" => q.attributes = split_list(value),
                "excludedattributes" => q.excluded_attributes = split_list(value),
                _ => {}
            }
        }
        Ok(q)
    }

    /// From a `POST .../.search` body (RFC 7644 §3.4.3).
    pub fn from_search_body(body: &Value) -> Result<Self, ScimError> {
        if !body.is_object() {
            return Err(ScimError::invalid_syntax(
                "a SearchRequest must be a JSON object",
            ));
        }
        let mut q = Self::default();
        if let Some(f) = get_ci(body, "filter").and_then(Value::as_str) {
            q.filter = Some(ScimFilter::parse(f)?);
        }
        if let Some(v) = get_ci(body, "startIndex").filter(|v| !v.is_null()) {
            let n = v
                .as_i64()
                .ok_or_else(|| ScimError::invalid_value("startIndex must be an integer"))?;
            q.start_index = n.max(1) as usize;
        }
        if let Some(v) = get_ci(body, "count").filter(|v| !v.is_null()) {
            let n = v
                .as_i64()
                .ok_or_else(|| ScimError::invalid_value("count must be an integer"))?;
            q.count = (n.max(0) as usize).min(MAX_RESULTS);
        }
        let strings = |name: &str| -> Vec<String> {
            match get_ci(body, name) {
                Some(Value::Array(a)) => a
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect(),
                Some(Value::String(s)) => split_list(s),
                _ => Vec::new(),
            }
        };
        q.attributes = strings("attributes");
        q.excluded_attributes = strings("excludedAttributes");
        Ok(q)
    }

    /// The positions (0-based) of the page among `total` matches.
    pub fn page_range(&self, total: usize) -> Range<usize> {
        let start = (self.start_index - 1).min(total);
        start..(start + self.count).min(total)
    }

    /// The whole answer from every resource of the tenant, in a stable order: filtered,
    /// paged, and cut to the attributes asked for.
    pub fn respond(
        &self,
        kind: ResourceKind,
        resources: impl IntoIterator<Item = Value>,
    ) -> Result<Value, ScimError> {
        let mut matches = Vec::new();
        for r in resources {
            if self
                .filter
                .as_ref()
                .map_or(Ok(true), |f| f.matches(kind, &r))?
            {
                matches.push(r);
            }
        }
        let total = matches.len();
        let range = self.page_range(total);
        let page = matches
            .drain(range)
            .map(|r| self.project(kind, &r))
            .collect();
        Ok(list_response(total, self.start_index, page))
    }

    /// One resource cut to `attributes`/`excludedAttributes`, for a single `GET` too.
    pub fn project(&self, kind: ResourceKind, resource: &Value) -> Value {
        project(kind, resource, &self.attributes, &self.excluded_attributes)
    }
}

/// A `ListResponse` holding one page.
pub fn list_response(total_results: usize, start_index: usize, page: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_RESPONSE_SCHEMA],
        "totalResults": total_results,
        "startIndex": start_index,
        "itemsPerPage": page.len(),
        "Resources": page,
    })
}

/// A resource with only the `attributes` asked for (plus `schemas`, `id` and the other
/// always-returned ones), or without the `excluded` ones; names as paths (`name.givenName`,
/// optionally behind the core schema URN), matched without case.
pub fn project(
    kind: ResourceKind,
    resource: &Value,
    attributes: &[String],
    excluded: &[String],
) -> Value {
    let Some(object) = resource.as_object() else {
        return resource.clone();
    };
    let schema = kind.schema();
    let always = |k: &str| {
        k.eq_ignore_ascii_case("schemas")
            || schema
                .attr(k)
                .is_some_and(|d| d.returned == Returned::Always)
    };
    let wanted: Vec<(String, Option<String>)> = attributes
        .iter()
        .map(|a| split_path(schema.urn, a))
        .collect();
    let unwanted: Vec<(String, Option<String>)> =
        excluded.iter().map(|a| split_path(schema.urn, a)).collect();
    let mut out = Map::new();
    for (k, v) in object {
        let lk = k.to_ascii_lowercase();
        if always(k) {
            out.insert(k.clone(), v.clone());
            continue;
        }
        let v = if !wanted.is_empty() {
            let subs: Vec<&str> = wanted
                .iter()
                .filter(|(n, _)| *n == lk)
                .map(|(_, s)| s.as_deref().unwrap_or(""))
                .collect();
            if subs.is_empty() {
                continue;
            }
            if subs.contains(&"") {
                v.clone()
            } else {
                keep_subs(v, &subs)
            }
        } else {
            v.clone()
        };
        let drop: Vec<&str> = unwanted
            .iter()
            .filter(|(n, _)| *n == lk)
            .map(|(_, s)| s.as_deref().unwrap_or(""))
            .collect();
        if drop.contains(&"") {
            continue;
        }
        let v = if drop.is_empty() {
            v
        } else {
            drop_subs(&v, &drop)
        };
        out.insert(k.clone(), v);
    }
    Value::Object(out)
}

/// `urn:...:User:name.givenName` → (`name`, `givenname`), lower-cased.
fn split_path(core_urn: &str, path: &str) -> (String, Option<String>) {
    let p = path.trim();
    let p = match p.get(..core_urn.len()) {
        Some(prefix) if prefix.eq_ignore_ascii_case(core_urn) => {
            p[core_urn.len()..].trim_start_matches(':')
        }
        _ => p,
    };
    let p = p.to_ascii_lowercase();
    match p.split_once('.') {
        Some((a, b)) => (a.to_string(), Some(b.to_string())),
        None => (p, None),
    }
}

fn filter_object(v: &Value, keep: &dyn Fn(&str) -> bool) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| keep(&k.to_ascii_lowercase()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|i| filter_object(i, keep)).collect()),
        other => other.clone(),
    }
}

fn keep_subs(v: &Value, subs: &[&str]) -> Value {
    filter_object(v, &|k| subs.contains(&k))
}

fn drop_subs(v: &Value, subs: &[&str]) -> Value {
    filter_object(v, &|k| !subs.contains(&k))
}

fn integer(name: &str, value: &str) -> Result<i64, ScimError> {
    value
        .parse::<i64>()
        .map_err(|_| ScimError::invalid_value(format!("{name} must be an integer, not {value:?}")))
}

fn split_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Decodes `%XX` and `+` of a query string component.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                match u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16)
                {
                    Ok(byte) => {
                        out.push(byte);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users(n: usize) -> Vec<Value> {
        (1..=n)
            .map(|i| {
                json!({
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                    "id": format!("u{i}"),
                    "userName": format!("user{i}"),
                    "name": {"givenName": "G", "familyName": format!("F{i}")},
                    "emails": [{"value": format!("u{i}@x"), "type": "work", "primary": true}],
                    "active": i % 2 == 0,
                    "meta": {"resourceType": "User"}
                })
            })
            .collect()
    }

    fn ids(resp: &Value) -> Vec<String> {
        resp["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn query_string_is_decoded_and_clamped() {
        let q = ListQuery::from_query("?filter=userName+eq+%22user3%22&startIndex=0&count=5000&attributes=userName,%20name.givenName&excludedAttributes=emails").unwrap();
        assert_eq!(
            q.filter.as_ref().unwrap().equality("userName"),
            Some("user3")
        );
        assert_eq!(q.start_index, 1);
        assert_eq!(q.count, MAX_RESULTS);
        assert_eq!(q.attributes, vec!["userName", "name.givenName"]);
        assert_eq!(q.excluded_attributes, vec!["emails"]);
        let q = ListQuery::from_query("count=-3&StartIndex=-7").unwrap();
        assert_eq!((q.start_index, q.count), (1, 0));
        assert_eq!(ListQuery::from_query("").unwrap(), ListQuery::default());
        assert_eq!(
            ListQuery::from_query("count=ten").unwrap_err().scim_type,
            Some("invalidValue")
        );
        assert_eq!(
            ListQuery::from_query("filter=userName%20xx%20%22a%22")
                .unwrap_err()
                .scim_type,
            Some("invalidFilter")
        );
    }

    #[test]
    fn paging_edges() {
        let q = |s: usize, c: usize| ListQuery {
            start_index: s,
            count: c,
            ..ListQuery::default()
        };
        assert_eq!(q(1, 10).page_range(25), 0..10);
        assert_eq!(q(21, 10).page_range(25), 20..25);
        assert_eq!(q(25, 10).page_range(25), 24..25);
        assert_eq!(q(26, 10).page_range(25), 25..25);
        assert_eq!(q(100, 10).page_range(25), 25..25);
        assert_eq!(q(1, 0).page_range(25), 0..0);
        assert_eq!(q(1, 10).page_range(0), 0..0);

        let resp = q(4, 3).respond(ResourceKind::User, users(10)).unwrap();
        assert_eq!(resp["schemas"][0], LIST_RESPONSE_SCHEMA);
        assert_eq!(resp["totalResults"], 10);
        assert_eq!(resp["startIndex"], 4);
        assert_eq!(resp["itemsPerPage"], 3);
        assert_eq!(ids(&resp), vec!["u4", "u5", "u6"]);
        let resp = q(10, 3).respond(ResourceKind::User, users(10)).unwrap();
        assert_eq!(
            (resp["itemsPerPage"].as_u64(), ids(&resp)),
            (Some(1), vec!["u10".to_string()])
        );
        let resp = q(11, 3).respond(ResourceKind::User, users(10)).unwrap();
        assert_eq!(
            (resp["totalResults"].as_u64(), resp["itemsPerPage"].as_u64()),
            (Some(10), Some(0))
        );
        assert_eq!(resp["Resources"], json!([]));
        let resp = q(1, 0).respond(ResourceKind::User, users(10)).unwrap();
        assert_eq!(
            (resp["totalResults"].as_u64(), resp["itemsPerPage"].as_u64()),
            (Some(10), Some(0))
        );
    }

    #[test]
    fn filtering_counts_only_matches() {
        let q = ListQuery::from_query("filter=active%20eq%20true&count=2&startIndex=2").unwrap();
        let resp = q.respond(ResourceKind::User, users(10)).unwrap();
        assert_eq!(resp["totalResults"], 5);
        assert_eq!(ids(&resp), vec!["u4", "u6"]);
    }

    #[test]
    fn attributes_keep_only_what_is_asked_and_what_is_always_returned() {
        let u = &users(1)[0];
        let q = ListQuery::from_query("attributes=urn:ietf:params:scim:schemas:core:2.0:User:USERNAME,name.familyName,emails.value").unwrap();
        let p = q.project(ResourceKind::User, u);
        assert_eq!(
            p,
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "id": "u1",
                "userName": "user1",
                "name": {"familyName": "F1"},
                "emails": [{"value": "u1@x"}]
            })
        );
        let q = ListQuery::from_query("excludedAttributes=emails.primary,name,id,meta").unwrap();
        let p = q.project(ResourceKind::User, u);
        assert_eq!(p["id"], "u1", "id is always returned");
        assert!(p.get("name").is_none());
        assert!(p.get("meta").is_none());
        assert_eq!(p["emails"], json!([{"value": "u1@x", "type": "work"}]));
        assert_eq!(p["userName"], "user1");
    }

    #[test]
    fn search_bodies() {
        let q = ListQuery::from_search_body(&json!({
            "schemas": [SEARCH_REQUEST_SCHEMA],
            "filter": "userName sw \"user\"",
            "attributes": ["userName"],
            "startIndex": 2,
            "count": 1
        }))
        .unwrap();
        let resp = q.respond(ResourceKind::User, users(3)).unwrap();
        assert_eq!(resp["totalResults"], 3);
        assert_eq!(
            resp["Resources"],
            json!([{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "u2", "userName": "user2"}])
        );
        assert!(ListQuery::from_search_body(&json!({"count": "x"})).is_err());
    }
}
