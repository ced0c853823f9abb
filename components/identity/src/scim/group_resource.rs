//! A stored group as a SCIM Group resource, and a SCIM Group body (POST, PUT) as a stored
//! group.

use super::error::ScimError;
use super::json::{check_schemas, opt_list, opt_string};
use super::meta::{location, meta};
use super::schema::GROUP_SCHEMA;
use crate::group::{GroupRecord, Member};
use serde_json::{Map, Value, json};

/// The resource type's endpoint.
pub const ENDPOINT: &str = "/Groups";

/// The Group resource of a stored group at a stored version; member references are under
/// `base_url`.
pub fn to_resource(group: &GroupRecord, base_url: &str, version: u64) -> Value {
    let mut r = Map::new();
    r.insert("schemas".into(), json!([GROUP_SCHEMA]));
    r.insert("id".into(), json!(group.id));
    if let Some(x) = &group.external_id {
        r.insert("externalId".into(), json!(x));
    }
    r.insert("displayName".into(), json!(group.display_name));
    if !group.members.is_empty() {
        let members: Vec<Value> = group
            .members
            .iter()
            .map(|m| {
                let mut v = json!({
                    "value": m.value,
                    "$ref": location(base_url, super::user_resource::ENDPOINT, &m.value),
                    "type": "User",
                });
                if let Some(d) = &m.display {
                    v["display"] = json!(d);
                }
                v
            })
            .collect();
        r.insert("members".into(), Value::Array(members));
    }
    let loc = location(base_url, ENDPOINT, &group.id);
    r.insert(
        "meta".into(),
        meta("Group", group.created_at, group.updated_at, &loc, version),
    );
    Value::Object(r)
}

/// The stored group a POST (`existing` = `None`) or PUT body describes; as for users, the
/// caller sets a new group's `id` and `tenant`, and checks that every member is a user of the
/// tenant. `displayName` is required; members are users only, each kept once.
pub fn from_resource(
    body: &Value,
    existing: Option<&GroupRecord>,
    now_ms: u64,
) -> Result<GroupRecord, ScimError> {
    if !body.is_object() {
        return Err(ScimError::invalid_syntax("a Group must be a JSON object"));
    }
    check_schemas(body, GROUP_SCHEMA, &[])?;
    let display_name = opt_string(body, "displayName")?
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ScimError::invalid_value("displayName is required"))?;
    let members = parse_members(body)?;
    let mut group = match existing {
        Some(g) => g.clone(),
        None => GroupRecord {
            id: String::new(),
            tenant: String::new(),
            display_name: String::new(),
            external_id: None,
            members: Vec::new(),
            created_at: now_ms,
            updated_at: now_ms,
        },
    };
    group.display_name = display_name;
    group.external_id = opt_string(body, "externalId")?;
    group.members = members;
    group.updated_at = now_ms;
    Ok(group)
}

fn parse_members(body: &Value) -> Result<Vec<Member>, ScimError> {
    let mut out: Vec<Member> = Vec::new();
    for m in opt_list(body, "members") {
        if !m.is_object() {
            return Err(ScimError::invalid_value(
                "each member must be an object with a value",
            ));
        }
        let value = opt_string(m, "value")?
            .ok_or_else(|| ScimError::invalid_value("a member has no value"))?;
        if let Some(kind) = opt_string(m, "type")?
            && !kind.eq_ignore_ascii_case("User")
        {
            return Err(ScimError::invalid_value(format!(
                "members are users, not {kind}"
            )));
        }
        let display = opt_string(m, "display")?;
        match out.iter_mut().find(|x| x.value == value) {
            Some(existing) => existing.display = display.or(existing.display.take()),
            None => out.push(Member { value, display }),
        }
    }
    Ok(out)
}

/// The attributes a client may write, as JSON, for PATCH to work on.
pub(crate) fn writable_view(group: &GroupRecord) -> Value {
    let mut v = to_resource(group, "", 0);
    if let Some(m) = v.as_object_mut() {
        for k in ["schemas", "id", "meta"] {
            m.remove(k);
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored() -> GroupRecord {
        GroupRecord {
            id: "g1".into(),
            tenant: "acme".into(),
            display_name: "Engineering".into(),
            external_id: Some("okta-00g1".into()),
            members: vec![
                Member {
                    value: "u1".into(),
                    display: Some("Babs".into()),
                },
                Member {
                    value: "u2".into(),
                    display: None,
                },
            ],
            created_at: 0,
            updated_at: 1000,
        }
    }

    #[test]
    fn resource_lists_members_with_references() {
        let r = to_resource(&stored(), "https://h/scim/v2", 2);
        assert_eq!(r["schemas"], json!([GROUP_SCHEMA]));
        assert_eq!(r["displayName"], "Engineering");
        assert_eq!(r["externalId"], "okta-00g1");
        assert_eq!(
            r["members"],
            json!([
                {"value": "u1", "$ref": "https://h/scim/v2/Users/u1", "type": "User", "display": "Babs"},
                {"value": "u2", "$ref": "https://h/scim/v2/Users/u2", "type": "User"}
            ])
        );
        assert_eq!(r["meta"]["location"], "https://h/scim/v2/Groups/g1");
        assert_eq!(r["meta"]["resourceType"], "Group");
        assert_eq!(r["meta"]["version"], "W/\"2\"");
    }

    #[test]
    fn post_and_put_bodies() {
        let body = json!({
            "schemas": [GROUP_SCHEMA],
            "displayName": "Ops",
            "members": [{"value": "u1", "$ref": "https://h/Users/u1", "type": "User"}, {"value": "u1", "display": "B"}, {"value": "u3"}]
        });
        let g = from_resource(&body, None, 7).unwrap();
        assert_eq!(g.display_name, "Ops");
        assert_eq!(
            g.members,
            vec![
                Member {
                    value: "u1".into(),
                    display: Some("B".into())
                },
                Member {
                    value: "u3".into(),
                    display: None
                }
            ]
        );
        assert_eq!((g.created_at, g.updated_at), (7, 7));
        let put = from_resource(&json!({"displayName": "Ops 2"}), Some(&stored()), 9).unwrap();
        assert_eq!(put.id, "g1");
        assert!(put.members.is_empty());
        assert_eq!(put.external_id, None);
        assert_eq!(put.created_at, 0);
        let back = from_resource(
            &to_resource(&stored(), "https://h", 1),
            Some(&stored()),
            1000,
        )
        .unwrap();
        assert_eq!(back, stored());
    }

    #[test]
    fn bad_group_bodies() {
        assert_eq!(
            from_resource(&json!({"members": []}), None, 0)
                .unwrap_err()
                .scim_type,
            Some("invalidValue")
        );
        let nested = json!({"displayName": "x", "members": [{"value": "g2", "type": "Group"}]});
        assert_eq!(
            from_resource(&nested, None, 0).unwrap_err().scim_type,
            Some("invalidValue")
        );
        let no_value = json!({"displayName": "x", "members": [{"display": "b"}]});
        assert_eq!(
            from_resource(&no_value, None, 0).unwrap_err().scim_type,
            Some("invalidValue")
        );
        let user_schema =
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "displayName": "x"});
        assert!(from_resource(&user_schema, None, 0).is_err());
    }
}
