//! The SCIM endpoints: discovery (`/ServiceProviderConfig`, `/ResourceTypes`, `/Schemas`),
//! `/Users` and `/Groups` (list with filter and paging, create, read, replace, patch,
//! delete). Every answer is `application/scim+json`; every refusal is a SCIM error.

use super::PATH;
use super::store::{self, Failure, Versioned};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Method;
use marcus_identity::group::GroupRecord;
use marcus_identity::principal::Principal;
use marcus_identity::scim::error::ScimError;
use marcus_identity::scim::list::ListQuery;
use marcus_identity::scim::schema::ResourceKind;
use marcus_identity::scim::{discovery, group_resource, meta, patch, user_resource};
use marcus_identity::user::UserRecord;
use serde_json::Value;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

type Response = hyper::Response<HyperOutgoingBody>;

/// A request to the SCIM service, its body already read.
pub struct ScimRequest<'a> {
    /// Its method.
    pub method: &'a Method,
    /// Its path, starting with [`PATH`].
    pub path: &'a str,
    /// Its raw query.
    pub query: Option<&'a str>,
    /// Its `If-Match` header.
    pub if_match: Option<&'a str>,
    /// Its body.
    pub body: &'a [u8],
}

/// Answers a SCIM request of `principal` (an admin of its tenant: the route table let only
/// those through); `public_base` is the server's public URL.
pub async fn serve(
    storage: &dyn crate::storage::StorageBackend,
    principal: &Principal,
    public_base: &str,
    request: ScimRequest<'_>,
) -> Response {
    let base = format!("{public_base}{PATH}");
    match answer(storage, &principal.tenant, &base, &request).await {
        Ok((status, document, version)) => scim_json(status, &document, version),
        Err(Failure::Scim(e)) => scim_json(e.status, &e.to_json(), None),
        Err(Failure::Store(e)) => scim_json(
            503,
            &ScimError::new(503, None, format!("the store cannot be reached: {e}")).to_json(),
            None,
        ),
    }
}

fn scim_json(status: u16, document: &Value, version: Option<u64>) -> Response {
    let mut builder = hyper::Response::builder()
        .status(status)
        .header("content-type", "application/scim+json");
    if let Some(v) = version {
        builder = builder.header("etag", meta::etag(v));
    }
    if status == 503 {
        builder = builder.header("retry-after", "1");
    }
    let body = if status == 204 {
        Bytes::new()
    } else {
        Bytes::from(document.to_string())
    };
    builder
        .body(
            Full::new(body)
                .map_err(|never| match never {})
                .boxed_unsync(),
        )
        .expect("static response parts are valid")
}

type Answer = Result<(u16, Value, Option<u64>), Failure>;

fn body_json(body: &[u8]) -> Result<Value, Failure> {
    serde_json::from_slice(body).map_err(|e| {
        Failure::Scim(ScimError::invalid_syntax(format!(
            "the body is not JSON: {e}"
        )))
    })
}

async fn answer(
    storage: &dyn crate::storage::StorageBackend,
    tenant: &str,
    base: &str,
    r: &ScimRequest<'_>,
) -> Answer {
    let rest = r.path.strip_prefix(PATH).unwrap_or_default();
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let get = *r.method == Method::GET;
    let read_only = |document: Value| -> Answer {
        if get {
            Ok((200, document, None))
        } else {
            Err(ScimError::method_not_allowed(format!("{} is read-only", r.path)).into())
        }
    };
    match segments.as_slice() {
        ["ServiceProviderConfig"] => read_only(discovery::service_provider_config(base)),
        ["ResourceTypes"] => read_only(discovery::resource_types(base)),
        ["ResourceTypes", name] => match discovery::resource_kind_named(name) {
            Some(kind) => read_only(discovery::resource_type(kind, base)),
            None => Err(ScimError::not_found(format!("no resource type {name}")).into()),
        },
        ["Schemas"] => read_only(discovery::schemas(base)),
        ["Schemas", urn] => match discovery::resource_kind_of_schema(urn) {
            Some(kind) => read_only(discovery::schema(kind, base)),
            None => Err(ScimError::not_found(format!("no schema {urn}")).into()),
        },
        [".search"] | ["Users", ".search"] | ["Groups", ".search"] => Err(
            ScimError::not_implemented("searching by POST is not supported; use GET with filter")
                .into(),
        ),
        ["Users"] => users(storage, tenant, base, r).await,
        ["Users", id] => one_user(storage, tenant, base, r, id).await,
        ["Groups"] => groups(storage, tenant, base, r).await,
        ["Groups", id] => one_group(storage, tenant, base, r, id).await,
        _ => Err(ScimError::not_found(format!("no SCIM endpoint {}", r.path)).into()),
    }
}

fn query(r: &ScimRequest<'_>) -> Result<ListQuery, Failure> {
    Ok(ListQuery::from_query(r.query.unwrap_or(""))?)
}

/// Every user's resource, with the groups it is in.
async fn user_resources(
    storage: &dyn crate::storage::StorageBackend,
    tenant: &str,
    base: &str,
) -> Result<Vec<Value>, Failure> {
    let groups = store::groups(storage, tenant).await?;
    let mut users = store::users(storage, tenant).await?;
    users.sort_by(|a, b| {
        a.record
            .created_at
            .cmp(&b.record.created_at)
            .then(a.record.id.cmp(&b.record.id))
    });
    Ok(users
        .iter()
        .map(|u| user_resource(base, u, &groups))
        .collect())
}

fn user_resource(
    base: &str,
    u: &Versioned<UserRecord>,
    groups: &[Versioned<GroupRecord>],
) -> Value {
    let of: Vec<&GroupRecord> = groups
        .iter()
        .map(|g| &g.record)
        .filter(|g| g.has_member(&u.record.id))
        .collect();
    user_resource::to_resource(&u.record, base, u.version, &of)
}

async fn users(
    storage: &dyn crate::storage::StorageBackend,
    tenant: &str,
    base: &str,
    r: &ScimRequest<'_>,
) -> Answer {
    let now = crate::storage::now_ms();
    match *r.method {
        Method::GET => {
            let q = query(r)?;
            let all = user_resources(storage, tenant, base).await?;
            Ok((200, q.respond(ResourceKind::User, all)?, None))
        }
        Method::POST => {
            let body = body_json(r.body)?;
            let user = user_resource::from_resource(&body, None, now)?;
            let made = store::create_user(storage, tenant, user).await?;
            Ok((
                201,
                user_resource::to_resource(&made.record, base, made.version, &[]),
                Some(made.version),
            ))
        }
        _ => Err(ScimError::method_not_allowed("use GET or POST on /Users").into()),
    }
}

async fn one_user(
    storage: &dyn crate::storage::StorageBackend,
    tenant: &str,
    base: &str,
    r: &ScimRequest<'_>,
    id: &str,
) -> Answer {
    let now = crate::storage::now_ms();
    let changed = match *r.method {
        Method::GET => {
            let q = query(r)?;
            let u = store::user(storage, tenant, id).await?;
            let groups = store::groups(storage, tenant).await?;
            let resource = user_resource(base, &u, &groups);
            return Ok((
                200,
                q.project(ResourceKind::User, &resource),
                Some(u.version),
            ));
        }
        Method::PUT => {
            let body = body_json(r.body)?;
            store::update_user(storage, tenant, id, r.if_match, |current| {
                user_resource::from_resource(&body, Some(current), now)
            })
            .await?
        }
        Method::PATCH => {
            let body = body_json(r.body)?;
            store::update_user(storage, tenant, id, r.if_match, |current| {
                let mut next = current.clone();
                patch::apply_user_patch(&mut next, &body, now)?;
                Ok(next)
            })
            .await?
        }
        Method::DELETE => {
            store::delete_user(storage, tenant, id).await?;
            return Ok((204, Value::Null, None));
        }
        _ => {
            return Err(
                ScimError::method_not_allowed("use GET, PUT, PATCH or DELETE on a user").into(),
            );
        }
    };
    let groups = store::groups(storage, tenant).await?;
    Ok((
        200,
        user_resource(base, &changed, &groups),
        Some(changed.version),
    ))
}

async fn groups(
    storage: &dyn crate::storage::StorageBackend,
    tenant: &str,
    base: &str,
    r: &ScimRequest<'_>,
) -> Answer {
    let now = crate::storage::now_ms();
    match *r.method {
        Method::GET => {
            let q = query(r)?;
            let mut all = store::groups(storage, tenant).await?;
            all.sort_by(|a, b| {
                a.record
                    .created_at
                    .cmp(&b.record.created_at)
                    .then(a.record.id.cmp(&b.record.id))
            });
            let resources = all
                .iter()
                .map(|g| group_resource::to_resource(&g.record, base, g.version));
            Ok((200, q.respond(ResourceKind::Group, resources)?, None))
        }
        Method::POST => {
            let body = body_json(r.body)?;
            let group = group_resource::from_resource(&body, None, now)?;
            let made = store::create_group(storage, tenant, group).await?;
            Ok((
                201,
                group_resource::to_resource(&made.record, base, made.version),
                Some(made.version),
            ))
        }
        _ => Err(ScimError::method_not_allowed("use GET or POST on /Groups").into()),
    }
}

async fn one_group(
    storage: &dyn crate::storage::StorageBackend,
    tenant: &str,
    base: &str,
    r: &ScimRequest<'_>,
    id: &str,
) -> Answer {
    let now = crate::storage::now_ms();
    let changed = match *r.method {
        Method::GET => {
            let q = query(r)?;
            let g = store::group(storage, tenant, id).await?;
            let resource = group_resource::to_resource(&g.record, base, g.version);
            return Ok((
                200,
                q.project(ResourceKind::Group, &resource),
                Some(g.version),
            ));
        }
        Method::PUT => {
            let body = body_json(r.body)?;
            store::update_group(storage, tenant, id, r.if_match, |current| {
                group_resource::from_resource(&body, Some(current), now)
            })
            .await?
        }
        Method::PATCH => {
            let body = body_json(r.body)?;
            store::update_group(storage, tenant, id, r.if_match, |current| {
                let mut next = current.clone();
                patch::apply_group_patch(&mut next, &body, now)?;
                Ok(next)
            })
            .await?
        }
        Method::DELETE => {
            store::delete_group(storage, tenant, id).await?;
            return Ok((204, Value::Null, None));
        }
        _ => {
            return Err(
                ScimError::method_not_allowed("use GET, PUT, PATCH or DELETE on a group").into(),
            );
        }
    };
    Ok((
        200,
        group_resource::to_resource(&changed.record, base, changed.version),
        Some(changed.version),
    ))
}
