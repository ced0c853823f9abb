//! `/api/admin/tokens`: what `marcus token` does, over HTTP for an admin, so tokens can be
//! made and revoked on a running server without a shell on its machine. A token is shown
//! once, in the answer that makes it; listings never carry digests.

use super::{secret, tokens};
use crate::json_error;
use crate::storage::StorageBackend;
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::Method;
use marcus_identity::access::Access;
use marcus_identity::lifetime;
use marcus_identity::principal::Principal;
use marcus_identity::principal::Role;
use marcus_identity::record::TokenRecord;
use serde::Deserialize;
use serde_json::{Value, json};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// The collection path; one token is `PATH/{id}`.
pub const PATH: &str = "/api/admin/tokens";

type Response = hyper::Response<HyperOutgoingBody>;

/// What `POST /api/admin/tokens` takes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    name: String,
    role: String,
    #[serde(default)]
    agent_ids: Vec<String>,
    /// `30d`, `12h` (30 days when absent, at most 365 days).
    expires: Option<String>,
    /// The token's tenant: the caller's when absent; only a server administrator may name
    /// another.
    tenant: Option<String>,
    /// Whether it administers the installation too (a server administrator's call only).
    #[serde(default)]
    server_admin: bool,
}

/// Whether `principal` administers the installation (every tenant's tokens).
fn is_server_admin(principal: Option<&Principal>) -> bool {
    principal.is_some_and(|p| marcus_identity::access::check(p, Access::ServerAdmin, None).is_ok())
}

/// The tenant whose tokens `principal` manages here: its own, unless it is a server
/// administrator (who manages all).
fn managed_tenant(principal: Option<&Principal>) -> Option<String> {
    if is_server_admin(principal) {
        return None;
    }
    Some(
        principal
            .map(|p| p.tenant.clone())
            .unwrap_or_else(|| marcus_identity::tenant::DEFAULT_TENANT.to_string()),
    )
}

/// Answers one request under [`PATH`] (its body already read) for `principal`, an admin
/// (the route table let only admins through): a tenant's admin sees and changes only its
/// tenant's tokens, and another tenant's token id answers `404` like one that does not
/// exist; a server administrator manages every tenant's.
pub async fn serve(
    method: &Method,
    path: &str,
    body: Bytes,
    storage: &dyn StorageBackend,
    principal: Option<&Principal>,
) -> Response {
    let scope = managed_tenant(principal);
    let id = path
        .strip_prefix(PATH)
        .and_then(|rest| rest.strip_prefix('/'))
        .filter(|id| !id.is_empty());
    match (method, id) {
        (&Method::GET, None) => match tokens::list(storage).await {
            Ok(all) => {
                let now = crate::storage::now_ms();
                let tokens: Vec<Value> = all
                    .iter()
                    .filter(|r| scope.as_ref().is_none_or(|t| &r.tenant == t))
                    .map(|r| view(r, now))
                    .collect();
                json_error::json(200, &json!({ "tokens": tokens }))
            }
            Err(e) => unavailable(&e),
        },
        (&Method::POST, None) => create(&body, storage, principal).await,
        (&Method::DELETE, Some(id)) => revoke(id, storage, scope.as_deref()).await,
        (_, None) => json_error::method_not_allowed(path, "GET, POST"),
        (_, Some(_)) => json_error::method_not_allowed(path, "DELETE"),
    }
}

async fn create(
    body: &[u8],
    storage: &dyn StorageBackend,
    principal: Option<&Principal>,
) -> Response {
    let asked: CreateBody = match serde_json::from_slice(body) {
        Ok(asked) => asked,
        Err(e) => {
            return json_error::response(
                400,
                "bad_request",
                &format!(
                    "expected {{\"name\", \"role\", \"agent_ids\"?, \"expires\"?, \"tenant\"?, \"server_admin\"?}}: {e}"
                ),
            );
        }
    };
    let role = match Role::parse(&asked.role) {
        Ok(role) => role,
        Err(why) => return json_error::response(400, "bad_request", &why),
    };
    let lifetime_ms = match lifetime::parse(asked.expires.as_deref()) {
        Ok(ms) => ms,
        Err(why) => return json_error::response(400, "bad_request", &why),
    };
    let own = principal
        .map(|p| p.tenant.clone())
        .unwrap_or_else(|| marcus_identity::tenant::DEFAULT_TENANT.to_string());
    let tenant = asked.tenant.clone().unwrap_or(own.clone());
    if (tenant != own || asked.server_admin) && !is_server_admin(principal) {
        return json_error::response(
            403,
            "forbidden",
            "only a server administrator may make tokens of another tenant or server administrators",
        );
    }
    let secret = match secret::load_or_create(storage).await {
        Ok(secret) => secret,
        Err(e) => return unavailable(&e),
    };
    let request = tokens::Request {
        name: &asked.name,
        role,
        agent_ids: asked.agent_ids,
        lifetime_ms,
        tenant: &tenant,
        server_admin: asked.server_admin,
        // A token a signed-in person makes is theirs: it ends when they are deactivated.
        owner: principal
            .filter(|p| p.verified_by == marcus_identity::principal::Verification::Session)
            .map(|p| p.subject.as_str()),
    };
    match tokens::create(storage, &secret, request).await {
        Ok(issued) => json_error::json(
            201,
            &json!({
                "token": issued.token.reveal(),
                "record": view(&issued.record, crate::storage::now_ms()),
            }),
        ),
        Err(e) => match e.downcast_ref::<tokens::Invalid>() {
            Some(invalid) => json_error::response(400, "bad_request", &invalid.0),
            None => unavailable(&e),
        },
    }
}

async fn revoke(id: &str, storage: &dyn StorageBackend, scope: Option<&str>) -> Response {
    // By id only: names are not unique, and an API call should not guess. Another tenant's
    // token is answered as one that does not exist.
    match tokens::list(storage).await {
        Ok(all)
            if !all
                .iter()
                .any(|r| r.id == id && scope.is_none_or(|t| r.tenant == t)) =>
        {
            return json_error::response(404, "not_found", &format!("no token has the id {id:?}"));
        }
        Ok(_) => {}
        Err(e) => return unavailable(&e),
    }
    match tokens::revoke(storage, id).await {
        Ok(record) => json_error::json(
            200,
            &json!({ "record": view(&record, crate::storage::now_ms()) }),
        ),
        Err(e) => unavailable(&e),
    }
}

/// A token record as the API shows it: everything but the digest, plus its state.
pub fn view(record: &TokenRecord, now: u64) -> Value {
    json!({
        "id": record.id,
        "name": record.name,
        "role": record.role.as_str(),
        "kind": record.kind.as_str(),
        "agent_ids": record.agent_ids,
        "tenant": record.tenant,
        "server_admin": record.server_admin,
        "created_at": record.created_at,
        "expires_at": record.expires_at,
        "last_used_at": record.last_used_at,
        "revoked_at": record.revoked_at,
        "owner": record.owner,
        "state": record.state(now),
    })
}

fn unavailable(e: &dyn std::fmt::Display) -> Response {
    json_error::response(
        503,
        "unavailable",
        &format!("the token store cannot be used: {e}"),
    )
}

/// Reads a request's body for [`serve`] (small JSON only).
pub async fn read_body(
    req: hyper::Request<hyper::body::Incoming>,
    deadline: std::time::Duration,
) -> Result<Bytes, Response> {
    let buffered = crate::request_body::collect(req, deadline).await?;
    Ok(buffered
        .into_body()
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default())
}
