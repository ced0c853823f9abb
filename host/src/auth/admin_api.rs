//! `/api/admin/tokens`: what `marcus token` does, over HTTP for an admin, so tokens can be
//! made and revoked on a running server without a shell on its machine. A token is shown
//! once, in the answer that makes it; listings never carry digests.

use super::{secret, tokens};
use crate::json_error;
use crate::storage::StorageBackend;
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::Method;
use marcus_identity::lifetime;
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
}

/// Answers one request under [`PATH`] (its body already read).
pub async fn serve(
    method: &Method,
    path: &str,
    body: Bytes,
    storage: &dyn StorageBackend,
) -> Response {
    let id = path
        .strip_prefix(PATH)
        .and_then(|rest| rest.strip_prefix('/'))
        .filter(|id| !id.is_empty());
    match (method, id) {
        (&Method::GET, None) => match tokens::list(storage).await {
            Ok(all) => {
                let now = crate::storage::now_ms();
                let tokens: Vec<Value> = all.iter().map(|r| view(r, now)).collect();
                json_error::json(200, &json!({ "tokens": tokens }))
            }
            Err(e) => unavailable(&e),
        },
        (&Method::POST, None) => create(&body, storage).await,
        (&Method::DELETE, Some(id)) => revoke(id, storage).await,
        (_, None) => json_error::method_not_allowed(path, "GET, POST"),
        (_, Some(_)) => json_error::method_not_allowed(path, "DELETE"),
    }
}

async fn create(body: &[u8], storage: &dyn StorageBackend) -> Response {
    let asked: CreateBody = match serde_json::from_slice(body) {
        Ok(asked) => asked,
        Err(e) => {
            return json_error::response(
                400,
                "bad_request",
                &format!("expected {{\"name\", \"role\", \"agent_ids\"?, \"expires\"?}}: {e}"),
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
    let secret = match secret::load_or_create(storage).await {
        Ok(secret) => secret,
        Err(e) => return unavailable(&e),
    };
    let request = tokens::Request {
        name: &asked.name,
        role,
        agent_ids: asked.agent_ids,
        lifetime_ms,
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

async fn revoke(id: &str, storage: &dyn StorageBackend) -> Response {
    // By id only: names are not unique, and an API call should not guess.
    match tokens::list(storage).await {
        Ok(all) if !all.iter().any(|r| r.id == id) => {
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
        "created_at": record.created_at,
        "expires_at": record.expires_at,
        "last_used_at": record.last_used_at,
        "revoked_at": record.revoked_at,
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
