//! Webhook subscriptions and their delivery log (team tier and above):
//!
//! - `POST /api/projects/{id}/webhooks` `{url, events?, secret?, max_attempts?}`: subscribe;
//!   the answer holds the signing secret, the only time it is shown;
//! - `GET /api/projects/{id}/webhooks`: the project's subscriptions;
//! - `GET|DELETE /api/webhooks/{id}`;
//! - `GET /api/webhooks/{id}/deliveries?limit=`: deliveries with every attempt, newest first.

use crate::allowed_methods::only;
use crate::bindings::capabilities;
use crate::http_io::{Request, Response};
use crate::ids::{new_id, now_ms};
use crate::records::{self, Change, collections};
use marcus_core::api_error::ApiError;
use marcus_core::features;
use marcus_core::webhooks::destination::{ALLOW_FACT, AllowList};
use marcus_core::webhooks::signature::{SECRET_BYTES, secret_from_bytes};
use marcus_core::webhooks::{Delivery, NewWebhook, Webhook};
use serde_json::json;

/// Most deliveries one listing returns.
pub const MAX_DELIVERIES: usize = 500;

/// `/api/projects/{id}/webhooks`.
pub fn for_project(req: &Request, project_id: &str) -> Result<Response, ApiError> {
    match req.method.as_str() {
        "POST" => create(req, project_id),
        "GET" => {
            crate::tools::board_reads::project(project_id)?;
            let hooks: Vec<_> = records::query_all::<Webhook>(
                collections::WEBHOOKS,
                &[("project_id", json!(project_id))],
            )?
            .into_iter()
            .map(|v| v.value.public_view())
            .collect();
            Ok(Response::json(200, &json!({"webhooks": hooks})))
        }
        m => Err(crate::allowed_methods::method_not_allowed(
            m,
            &["GET", "POST"],
        )),
    }
}

/// `/api/webhooks/{id}[/deliveries]`.
pub fn handle(req: &Request, rest: &[&str]) -> Result<Response, ApiError> {
    let method = req.method.as_str();
    match rest {
        [id] => match method {
            "GET" => Ok(Response::json(
                200,
                &json!({"webhook": load(id)?.value.public_view()}),
            )),
            "DELETE" => {
                let hook = load(id)?;
                records::delete(collections::WEBHOOKS, id, Some(hook.version))?;
                Ok(Response::json(200, &json!({"deleted": id})))
            }
            m => Err(crate::allowed_methods::method_not_allowed(
                m,
                &["GET", "DELETE"],
            )),
        },
        [id, "deliveries"] => only(method, &["GET"], || deliveries(req, id)),
        _ => Err(ApiError::not_found(format!(
            "no route for {method} {}",
            req.path
        ))),
    }
}

fn load(id: &str) -> Result<records::Versioned<Webhook>, ApiError> {
    records::get::<Webhook>(collections::WEBHOOKS, id)?
        .ok_or_else(|| ApiError::not_found(format!("no webhook {id:?}")))
}

fn create(req: &Request, project_id: &str) -> Result<Response, ApiError> {
    let report = capabilities::describe();
    let derived = features::derive(&crate::routes::features::platform_report(&report));
    if !derived.capabilities.webhooks {
        return Err(ApiError::new(
            403,
            "feature_unavailable",
            "webhooks need the team tier (PostgreSQL and Redis); see docs/guides/team.md",
        ));
    }
    if records::get::<serde_json::Value>(collections::PROJECTS, project_id)?.is_none() {
        return Err(ApiError::not_found(format!("no project {project_id:?}")));
    }
    let body: NewWebhook = serde_json::from_value(req.json()?)
        .map_err(|e| ApiError::bad_request(format!("invalid webhook: {e}")))?;
    let mut key = [0u8; SECRET_BYTES];
    for chunk in key.chunks_mut(8) {
        let r = wasip2::random::random::get_random_u64().to_le_bytes();
        chunk.copy_from_slice(&r[..chunk.len()]);
    }
    let hook = body.into_webhook(
        new_id("wh"),
        project_id,
        secret_from_bytes(&key),
        now_ms(),
        &operator_allow_list(&report),
    )?;
    crate::unit_of_work::commit(vec![Change::create(
        collections::WEBHOOKS,
        &hook.id,
        &hook,
    )?])?;
    let mut view = hook.public_view();
    view["secret"] = json!(hook.secret);
    Ok(Response::json(201, &json!({"webhook": view})))
}

/// The destinations the operator allows although they are not public, as the host reports
/// them (an unreadable list allows nothing: the host checked it at start).
fn operator_allow_list(report: &capabilities::Report) -> AllowList {
    report
        .environment
        .facts
        .iter()
        .find(|(name, _)| name == ALLOW_FACT)
        .and_then(|(_, spec)| AllowList::parse(spec).ok())
        .unwrap_or_default()
}

fn deliveries(req: &Request, id: &str) -> Result<Response, ApiError> {
    load(id)?;
    let limit = req.limit(50, MAX_DELIVERIES)?;
    let mut all: Vec<Delivery> = records::query_all::<Delivery>(
        collections::WEBHOOK_DELIVERIES,
        &[("webhook_id", json!(id))],
    )?
    .into_iter()
    .map(|v| v.value)
    .collect();
    let total = all.len();
    all.sort_by(|a, b| b.id.cmp(&a.id));
    all.truncate(limit);
    Ok(Response::json(
        200,
        &json!({"deliveries": all, "total": total}),
    ))
}
