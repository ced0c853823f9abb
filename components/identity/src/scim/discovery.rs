//! The discovery documents (RFC 7644 §4, RFC 7643 §5–7): what the server supports
//! (`/ServiceProviderConfig`), the resource types it serves (`/ResourceTypes`) and their
//! attributes (`/Schemas`), written from the same attribute table the server obeys.

use super::list::{MAX_RESULTS, list_response};
use super::meta::location;
use super::schema::{AttrDef, ResourceKind, ResourceSchema};
use serde_json::{Map, Value, json};

/// The ServiceProviderConfig schema.
pub const SERVICE_PROVIDER_CONFIG_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
/// The ResourceType schema.
pub const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
/// The Schema schema.
pub const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

const KINDS: [ResourceKind; 2] = [ResourceKind::User, ResourceKind::Group];

/// `GET /ServiceProviderConfig`: PATCH, filters (up to [`MAX_RESULTS`]) and ETags yes;
/// bulk, sorting and password changes no; bearer tokens.
pub fn service_provider_config(base_url: &str) -> Value {
    json!({
        "schemas": [SERVICE_PROVIDER_CONFIG_SCHEMA],
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": true},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "A Marcus access token for the tenant, sent as Authorization: Bearer",
            "primary": true
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{}/ServiceProviderConfig", base_url.trim_end_matches('/')),
        }
    })
}

/// One resource type's document (`GET /ResourceTypes/User`).
pub fn resource_type(kind: ResourceKind, base_url: &str) -> Value {
    let s = kind.schema();
    json!({
        "schemas": [RESOURCE_TYPE_SCHEMA],
        "id": s.name,
        "name": s.name,
        "endpoint": s.endpoint,
        "description": s.description,
        "schema": s.urn,
        "schemaExtensions": [],
        "meta": {"resourceType": "ResourceType", "location": location(base_url, "/ResourceTypes", s.name)}
    })
}

/// `GET /ResourceTypes`: User and Group, as a list.
pub fn resource_types(base_url: &str) -> Value {
    let all: Vec<Value> = KINDS.iter().map(|k| resource_type(*k, base_url)).collect();
    list_response(all.len(), 1, all)
}

/// The resource type named (`User`, `Group`, without case), for `GET /ResourceTypes/{name}`.
pub fn resource_kind_named(name: &str) -> Option<ResourceKind> {
    KINDS
        .into_iter()
        .find(|k| k.schema().name.eq_ignore_ascii_case(name))
}

/// One schema's document (`GET /Schemas/{urn}`).
pub fn schema(kind: ResourceKind, base_url: &str) -> Value {
    let s: &ResourceSchema = kind.schema();
    json!({
        "schemas": [SCHEMA_SCHEMA],
        "id": s.urn,
        "name": s.name,
        "description": s.description,
        "attributes": s.attributes.iter().map(attribute).collect::<Vec<_>>(),
        "meta": {"resourceType": "Schema", "location": location(base_url, "/Schemas", s.urn)}
    })
}

/// `GET /Schemas`: the User and Group schemas, as a list.
pub fn schemas(base_url: &str) -> Value {
    let all: Vec<Value> = KINDS.iter().map(|k| schema(*k, base_url)).collect();
    list_response(all.len(), 1, all)
}

/// The resource type whose schema has this URN (without case), for `GET /Schemas/{urn}`.
pub fn resource_kind_of_schema(urn: &str) -> Option<ResourceKind> {
    KINDS.into_iter().find(|k| k.schema().is_core(urn))
}

fn attribute(a: &AttrDef) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), json!(a.name));
    m.insert("type".into(), json!(a.kind.as_str()));
    m.insert("multiValued".into(), json!(a.multi_valued));
    m.insert("description".into(), json!(a.description));
    m.insert("required".into(), json!(a.required));
    if !a.sub.is_empty() {
        m.insert(
            "subAttributes".into(),
            Value::Array(a.sub.iter().map(attribute).collect()),
        );
    } else {
        m.insert("caseExact".into(), json!(a.case_exact));
    }
    if !a.canonical.is_empty() {
        m.insert("canonicalValues".into(), json!(a.canonical));
    }
    if !a.reference_types.is_empty() {
        m.insert("referenceTypes".into(), json!(a.reference_types));
    }
    m.insert("mutability".into(), json!(a.mutability.as_str()));
    m.insert("returned".into(), json!(a.returned.as_str()));
    m.insert(
        "uniqueness".into(),
        json!(if a.unique { "server" } else { "none" }),
    );
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_provider_config_says_what_is_supported() {
        let c = service_provider_config("https://h/scim/v2/");
        assert_eq!(c["patch"]["supported"], true);
        assert_eq!(c["bulk"]["supported"], false);
        assert_eq!(c["filter"], json!({"supported": true, "maxResults": 200}));
        assert_eq!(c["changePassword"]["supported"], false);
        assert_eq!(c["sort"]["supported"], false);
        assert_eq!(c["etag"]["supported"], true);
        assert_eq!(c["authenticationSchemes"][0]["type"], "oauthbearertoken");
        assert_eq!(
            c["meta"]["location"],
            "https://h/scim/v2/ServiceProviderConfig"
        );
    }

    #[test]
    fn resource_types_list_users_and_groups() {
        let r = resource_types("https://h");
        assert_eq!(r["totalResults"], 2);
        assert_eq!(r["Resources"][0]["endpoint"], "/Users");
        assert_eq!(
            r["Resources"][0]["schema"],
            "urn:ietf:params:scim:schemas:core:2.0:User"
        );
        assert_eq!(r["Resources"][1]["id"], "Group");
        assert_eq!(
            r["Resources"][1]["meta"]["location"],
            "https://h/ResourceTypes/Group"
        );
        assert_eq!(resource_kind_named("user"), Some(ResourceKind::User));
        assert_eq!(resource_kind_named("Widget"), None);
    }

    #[test]
    fn schemas_describe_the_attributes_served() {
        let s = schemas("https://h");
        assert_eq!(s["totalResults"], 2);
        let user = &s["Resources"][0];
        assert_eq!(user["id"], "urn:ietf:params:scim:schemas:core:2.0:User");
        let attrs = user["attributes"].as_array().unwrap();
        let user_name = attrs.iter().find(|a| a["name"] == "userName").unwrap();
        assert_eq!(user_name["required"], true);
        assert_eq!(user_name["caseExact"], false);
        assert_eq!(user_name["uniqueness"], "server");
        let emails = attrs.iter().find(|a| a["name"] == "emails").unwrap();
        assert_eq!(emails["multiValued"], true);
        assert_eq!(emails["type"], "complex");
        assert_eq!(emails["subAttributes"].as_array().unwrap().len(), 3);
        let groups = attrs.iter().find(|a| a["name"] == "groups").unwrap();
        assert_eq!(groups["mutability"], "readOnly");
        let group = &s["Resources"][1];
        let members = group["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == "members")
            .unwrap();
        let r#ref = members["subAttributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == "$ref")
            .unwrap();
        assert_eq!(r#ref["referenceTypes"], json!(["User"]));
        assert_eq!(
            resource_kind_of_schema("urn:ietf:params:scim:schemas:core:2.0:group"),
            Some(ResourceKind::Group)
        );
    }
}
