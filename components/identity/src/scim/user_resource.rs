//! A stored user as a SCIM User resource, and a SCIM User body (POST, PUT) as a stored
//! user.

use super::error::ScimError;
use super::json::{check_schemas, get_ci, opt_bool, opt_list, opt_string};
use super::meta::{location, meta};
use super::schema::{ENTERPRISE_USER_SCHEMA, USER_SCHEMA};
use crate::group::GroupRecord;
use crate::user::{Email, UserRecord};
use serde_json::{Map, Value, json};

/// The resource type's endpoint.
pub const ENDPOINT: &str = "/Users";

/// The User resource of a stored user at a stored version, with the groups it is in; the
/// location and group references are under `base_url` (e.g. `https://host/scim/v2`).
pub fn to_resource(
    user: &UserRecord,
    base_url: &str,
    version: u64,
    groups: &[&GroupRecord],
) -> Value {
    let mut r = Map::new();
    r.insert("schemas".into(), json!([USER_SCHEMA]));
    r.insert("id".into(), json!(user.id));
    if let Some(x) = &user.external_id {
        r.insert("externalId".into(), json!(x));
    }
    r.insert("userName".into(), json!(user.user_name));
    let mut name = Map::new();
    if let Some(f) = &user.family_name {
        name.insert("familyName".into(), json!(f));
    }
    if let Some(g) = &user.given_name {
        name.insert("givenName".into(), json!(g));
    }
    if !name.is_empty() {
        r.insert("name".into(), Value::Object(name));
    }
    if let Some(d) = &user.display_name {
        r.insert("displayName".into(), json!(d));
    }
    if !user.emails.is_empty() {
        let emails: Vec<Value> = user
            .emails
            .iter()
            .map(|e| {
                let mut m = json!({"value": e.value, "primary": e.primary});
                if let Some(k) = &e.kind {
                    m["type"] = json!(k);
                }
                m
            })
            .collect();
        r.insert("emails".into(), Value::Array(emails));
    }
    r.insert("active".into(), json!(user.active));
    if !groups.is_empty() {
        let list: Vec<Value> = groups
            .iter()
            .map(|g| {
                json!({
                    "value": g.id,
                    "$ref": location(base_url, super::group_resource::ENDPOINT, &g.id),
                    "display": g.display_name,
                })
            })
            .collect();
        r.insert("groups".into(), Value::Array(list));
    }
    let loc = location(base_url, ENDPOINT, &user.id);
    r.insert(
        "meta".into(),
        meta("User", user.created_at, user.updated_at, &loc, version),
    );
    Value::Object(r)
}

/// The stored user a POST (`existing` = `None`) or PUT body describes. A PUT replaces every
/// attribute the client may write; what the server owns (`id`, `meta`, `groups`, the bound
/// sign-on accounts, times) is kept from `existing` and ignored in the body. A new user has an
/// empty `id` and `tenant`, for the caller to set. `active` left out keeps its value (a new
/// user is active). The body's `schemas`, when given, must name the User schema and nothing
/// but it and the enterprise extension; `userName` is required.
pub fn from_resource(
    body: &Value,
    existing: Option<&UserRecord>,
    now_ms: u64,
) -> Result<UserRecord, ScimError> {
    if !body.is_object() {
        return Err(ScimError::invalid_syntax("a User must be a JSON object"));
    }
    check_schemas(body, USER_SCHEMA, &[ENTERPRISE_USER_SCHEMA])?;
    let user_name = opt_string(body, "userName")?
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ScimError::invalid_value("userName is required"))?;
    let name = match get_ci(body, "name") {
        None | Some(Value::Null) => Value::Null,
        Some(v @ Value::Object(_)) => v.clone(),
        Some(_) => return Err(ScimError::invalid_value("name must be an object")),
    };
    let emails = parse_emails(body)?;
    let mut user = match existing {
        Some(e) => e.clone(),
        None => UserRecord::new("", "", "", now_ms),
    };
    user.user_name = user_name;
    user.external_id = opt_string(body, "externalId")?;
    user.display_name = opt_string(body, "displayName")?;
    user.given_name = opt_string(&name, "givenName")?;
    user.family_name = opt_string(&name, "familyName")?;
    user.emails = emails;
    if let Some(active) = opt_bool(body, "active")? {
        user.active = active;
    }
    user.updated_at = now_ms;
    Ok(user)
}

fn parse_emails(body: &Value) -> Result<Vec<Email>, ScimError> {
    let mut out: Vec<Email> = Vec::new();
    for e in opt_list(body, "emails") {
        if !e.is_object() {
            return Err(ScimError::invalid_value(
                "each email must be an object with a value",
            ));
        }
        let value = opt_string(e, "value")?
            .ok_or_else(|| ScimError::invalid_value("an email has no value"))?;
        let email = Email {
            value,
            kind: opt_string(e, "type")?,
            primary: opt_bool(e, "primary")?.unwrap_or(false),
        };
        if !out.contains(&email) {
            out.push(email);
        }
    }
    if out.iter().filter(|e| e.primary).count() > 1 {
        return Err(ScimError::invalid_value("at most one email may be primary"));
    }
    Ok(out)
}

/// The attributes a client may write, as JSON, for PATCH to work on.
pub(crate) fn writable_view(user: &UserRecord) -> Value {
    let mut v = to_resource(user, "", 0, &[]);
    if let Some(m) = v.as_object_mut() {
        for k in ["schemas", "id", "meta", "groups"] {
            m.remove(k);
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::user::SsoLink;

    fn stored() -> UserRecord {
        let mut u = UserRecord::new("u1", "acme", "bjensen", 1_305_261_754_000);
        u.given_name = Some("Barbara".into());
        u.emails = vec![Email {
            value: "b@example.com".into(),
            kind: Some("work".into()),
            primary: true,
        }];
        u.links = vec![SsoLink {
            protocol: "oidc".into(),
            issuer: "https://idp".into(),
            subject: "s".into(),
        }];
        u.updated_at = 1_305_261_755_000;
        u
    }

    #[test]
    fn resource_has_core_attributes_groups_and_meta() {
        let g = GroupRecord {
            id: "g1".into(),
            tenant: "acme".into(),
            display_name: "Eng".into(),
            external_id: None,
            members: vec![],
            created_at: 0,
            updated_at: 0,
        };
        let r = to_resource(&stored(), "https://h/scim/v2/", 3, &[&g]);
        assert_eq!(r["schemas"], json!([USER_SCHEMA]));
        assert_eq!(r["id"], "u1");
        assert_eq!(r["userName"], "bjensen");
        assert_eq!(r["name"], json!({"givenName": "Barbara"}));
        assert!(r.get("displayName").is_none());
        assert!(r.get("externalId").is_none());
        assert_eq!(
            r["emails"],
            json!([{"value": "b@example.com", "type": "work", "primary": true}])
        );
        assert_eq!(r["active"], true);
        assert_eq!(
            r["groups"],
            json!([{"value": "g1", "$ref": "https://h/scim/v2/Groups/g1", "display": "Eng"}])
        );
        assert_eq!(r["meta"]["resourceType"], "User");
        assert_eq!(r["meta"]["created"], "2011-05-13T04:42:34.000Z");
        assert_eq!(r["meta"]["lastModified"], "2011-05-13T04:42:35.000Z");
        assert_eq!(r["meta"]["location"], "https://h/scim/v2/Users/u1");
        assert_eq!(r["meta"]["version"], "W/\"3\"");
        assert!(r.get("links").is_none());
        assert!(
            to_resource(&stored(), "https://h", 1, &[])
                .get("groups")
                .is_none()
        );
    }

    #[test]
    fn post_body_makes_a_new_active_user() {
        let body = json!({
            "schemas": [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
            "id": "chosen-by-client",
            "UserName": " bjensen@example.com ",
            "name": {"givenName": "Barbara", "familyName": "Jensen", "formatted": "Ms. Barbara J Jensen"},
            "emails": [{"value": "b@example.com", "type": "work", "primary": "True"}],
            "meta": {"version": "W/\"99\""},
            "groups": [{"value": "g9"}],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "R&D"}
        });
        let u = from_resource(&body, None, 42).unwrap();
        assert_eq!(u.id, "");
        assert_eq!(u.user_name, "bjensen@example.com");
        assert_eq!(u.given_name.as_deref(), Some("Barbara"));
        assert_eq!(u.family_name.as_deref(), Some("Jensen"));
        assert!(u.emails[0].primary);
        assert!(u.active);
        assert_eq!((u.created_at, u.updated_at), (42, 42));
    }

    #[test]
    fn put_replaces_what_the_client_writes_and_keeps_what_the_server_owns() {
        let old = stored();
        let body =
            json!({"schemas": [USER_SCHEMA], "id": "other", "userName": "babs", "active": false});
        let u = from_resource(&body, Some(&old), 9_000_000_000_000).unwrap();
        assert_eq!(u.id, "u1");
        assert_eq!(u.tenant, "acme");
        assert_eq!(u.user_name, "babs");
        assert_eq!(u.given_name, None);
        assert!(u.emails.is_empty());
        assert!(!u.active);
        assert_eq!(u.links, old.links);
        assert_eq!(u.created_at, old.created_at);
        assert_eq!(u.updated_at, 9_000_000_000_000);
        // Left out, `active` keeps its value.
        let again = from_resource(&json!({"userName": "babs"}), Some(&u), 1).unwrap();
        assert!(!again.active);
    }

    #[test]
    fn bad_bodies_are_refused() {
        let e = from_resource(&json!({"schemas": [USER_SCHEMA]}), None, 0).unwrap_err();
        assert_eq!((e.status, e.scim_type), (400, Some("invalidValue")));
        let e = from_resource(&json!({"userName": "  "}), None, 0).unwrap_err();
        assert_eq!(e.scim_type, Some("invalidValue"));
        let e = from_resource(
            &json!({"schemas": ["urn:example:Widget"], "userName": "b"}),
            None,
            0,
        )
        .unwrap_err();
        assert_eq!(e.scim_type, Some("invalidValue"));
        let e = from_resource(&json!({"userName": 5}), None, 0).unwrap_err();
        assert_eq!(e.scim_type, Some("invalidValue"));
        let e = from_resource(&json!({"userName": "b", "active": "maybe"}), None, 0).unwrap_err();
        assert_eq!(e.scim_type, Some("invalidValue"));
        let two_primaries = json!({"userName": "b", "emails": [{"value": "a@x", "primary": true}, {"value": "b@x", "primary": true}]});
        assert_eq!(
            from_resource(&two_primaries, None, 0)
                .unwrap_err()
                .scim_type,
            Some("invalidValue")
        );
        assert_eq!(
            from_resource(&json!([1]), None, 0).unwrap_err().scim_type,
            Some("invalidSyntax")
        );
    }

    #[test]
    fn resource_round_trips_through_from_resource() {
        let u = stored();
        let back = from_resource(
            &to_resource(&u, "https://h", 1, &[]),
            Some(&u),
            u.updated_at,
        )
        .unwrap();
        assert_eq!(back, u);
    }
}
