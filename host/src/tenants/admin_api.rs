//! `/api/admin/tenants`: what `marcus tenant` does, over HTTP for a server administrator
//! (an admin token made with `--server-admin`; the route table refuses everybody else,
//! tenant admins included). `GET` lists, `POST {"name", "quotas"?}` makes one,
//! `POST /{name}/disable` and `/{name}/enable` switch it, `PUT /{name}/quotas` replaces its
//! quotas.

use super::registry::{self, Refused};
use super::served::ServedTenants;
use crate::json_error;
use crate::storage::StorageBackend;
use hyper::Method;
use marcus_identity::tenant::{Quotas, Status, TenantRecord};
use serde::Deserialize;
use serde_json::{Value, json};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// The collection path; one tenant is `PATH/{name}`.
pub const PATH: &str = "/api/admin/tenants";

type Response = hyper::Response<HyperOutgoingBody>;

/// What `POST /api/admin/tenants` takes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    name: String,
    #[serde(default)]
    quotas: Quotas,
}

/// Answers one request under [`PATH`] (its body already read).
pub async fn serve(
    method: &Method,
    path: &str,
    body: &[u8],
    storage: &dyn StorageBackend,
    served: &ServedTenants,
) -> Response {
    let rest: Vec<&str> = path
        .strip_prefix(PATH)
        .unwrap_or("")
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let outcome = match (method, rest.as_slice()) {
        (&Method::GET, []) => registry::list(storage).await.map(|all| {
            (
                200,
                json!({"tenants": all.iter().map(view).collect::<Vec<_>>()}),
            )
        }),
        (&Method::POST, []) => match objects_only(body, &["quotas"])
            .and_then(|v| serde_json::from_value::<CreateBody>(v).map_err(|e| e.to_string()))
        {
            Ok(asked) => registry::create(storage, &asked.name, asked.quotas)
                .await
                .map(|t| (201, json!({"tenant": view(&t)}))),
            Err(e) => {
                return json_error::response(
                    400,
                    "bad_request",
                    &format!("expected {{\"name\", \"quotas\"?}}: {e}"),
                );
            }
        },
        (&Method::GET, [name]) => match registry::get(storage, name).await {
            Ok(Some(t)) => Ok((200, json!({"tenant": view(&t)}))),
            Ok(None) => return not_found(name),
            Err(e) => Err(e),
        },
        (&Method::POST, [name, "disable"]) => {
            let done = registry::disable(storage, name).await;
            served.forget(name);
            done.map(|t| (200, json!({"tenant": view(&t)})))
        }
        (&Method::POST, [name, "enable"]) => {
            let done = registry::enable(storage, name).await;
            served.forget(name);
            done.map(|t| (200, json!({"tenant": view(&t)})))
        }
        (&Method::PUT, [name, "quotas"]) => match objects_only(body, &[])
            .and_then(|v| serde_json::from_value::<Quotas>(v).map_err(|e| e.to_string()))
        {
            Ok(quotas) => {
                let done = registry::set_quotas(storage, name, quotas).await;
                served.forget(name);
                done.map(|t| (200, json!({"tenant": view(&t)})))
            }
            Err(e) => {
                return json_error::response(
                    400,
                    "bad_request",
                    &format!(
                        "expected {{\"projects\"?, \"tasks\"?, \"stored_mb\"?, \"requests_per_minute\"?}}: {e}"
                    ),
                );
            }
        },
        (_, []) => return json_error::method_not_allowed(path, "GET, POST"),
        (_, [_]) => return json_error::method_not_allowed(path, "GET"),
        (_, [_, "quotas"]) => return json_error::method_not_allowed(path, "PUT"),
        (_, [_, "disable" | "enable"]) => return json_error::method_not_allowed(path, "POST"),
        _ => return json_error::response(404, "not_found", &format!("no route for {path}")),
    };
    match outcome {
        Ok((status, body)) => json_error::json(status, &body),
        Err(e) => match e.downcast_ref::<Refused>() {
            Some(r) => json_error::response(r.status, code(r.status), &r.message),
            None => json_error::response(
                503,
                "unavailable",
                &format!("the tenant registry cannot be used: {e}"),
            ),
        },
    }
}

/// The body as JSON when it is an object whose `fields` are objects or null where present
/// (a derived reader would take an array for a record too).
fn objects_only(body: &[u8], fields: &[&str]) -> Result<Value, String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    if !value.is_object() {
        return Err("the body must be a JSON object".into());
    }
    for f in fields {
        if let Some(v) = value.get(*f)
            && !(v.is_object() || v.is_null())
        {
            return Err(format!("{f} must be an object"));
        }
    }
    Ok(value)
}

fn code(status: u16) -> &'static str {
    match status {
        404 => "not_found",
        409 => "conflict",
        _ => "bad_request",
    }
}

fn not_found(name: &str) -> Response {
    json_error::response(404, "not_found", &format!("no tenant is named {name:?}"))
}

/// A tenant as the API shows it.
pub fn view(t: &TenantRecord) -> Value {
    json!({
        "name": t.name,
        "status": match t.status { Status::Active => "active", Status::Disabled => "disabled" },
        "quotas": t.quotas,
        "created_at": t.created_at,
        "disabled_at": t.disabled_at,
    })
}
