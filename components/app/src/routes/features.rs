//! `/api/features`: tier, feature switches, backends and counts, from the host's report.

use crate::bindings::{capabilities, storage};
use crate::http_io::Response;
use crate::platform_error::to_api;
use marcus_core::api_error::ApiError;
use marcus_core::features::{self, BackendStatus, PlatformReport};
use serde_json::{Map, Value, json};

/// Converts the WIT report into the core's domain type.
pub fn platform_report(report: &capabilities::Report) -> PlatformReport {
    PlatformReport {
        backends: report
            .backends
            .iter()
            .map(|b| {
                (
                    b.capability.clone(),
                    BackendStatus {
                        name: b.name.clone(),
                        healthy: b.healthy,
                        detail: b.detail.clone(),
                    },
                )
            })
            .collect(),
        kubernetes: report.environment.kubernetes,
    }
}

/// `GET /api/features`.
pub fn get() -> Result<Response, ApiError> {
    let report = capabilities::describe();
    let derived = features::derive(&platform_report(&report));
    let backends: Map<String, Value> = report
        .backends
        .iter()
        .map(|b| {
            (
                b.capability.clone(),
                json!({"name": b.name, "healthy": b.healthy, "detail": b.detail}),
            )
        })
        .collect();
    let facts: Map<String, Value> = report
        .environment
        .facts
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let host = match report.host {
        capabilities::HostKind::Native => "native",
        capabilities::HostKind::Spin => "spin",
    };
    Ok(Response::json(
        200,
        &json!({
            "tier": derived.tier,
            "capabilities": derived.capabilities,
            "backends": backends,
            "push": push_endpoints(&report),
            "host": host,
            "environment": {"kubernetes": report.environment.kubernetes, "facts": facts},
            "counts": counts(),
            "auth": auth(&report),
            // Whose board this is: every count and record here is this tenant's only.
            "tenant": crate::caller::principal().map(|p| p.tenant),
        }),
    ))
}

/// How requests are authenticated here and who this request is, so a page shows only what
/// its role may do; `insecure` is true when the server is exposed with authentication off.
fn auth(report: &capabilities::Report) -> Value {
    let fact = |name: &str| {
        report
            .environment
            .facts
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let mode = fact(AUTH_FACT).unwrap_or("local");
    let you = crate::caller::principal().map(|p| {
        json!({
            "subject": p.subject,
            "role": p.role.as_str(),
            "kind": p.kind.as_str(),
            "verified_by": p.verified_by.as_str(),
            "agent_ids": p.agent_ids,
            "tenant": p.tenant,
        })
    });
    json!({
        "mode": mode,
        "insecure": mode == INSECURE_MODE,
        "principal": you,
        "oidc_issuer": fact(OIDC_ISSUER_FACT),
    })
}

/// The capabilities fact naming how the host authenticates requests.
pub const AUTH_FACT: &str = "auth";
/// The capabilities fact naming the identity provider whose access tokens are accepted.
pub const OIDC_ISSUER_FACT: &str = "oidc-issuer";
/// Its value when the server is exposed with authentication switched off.
pub const INSECURE_MODE: &str = "insecure-no-auth";

/// Where browsers get pushed events on this host, from the `push` backend's name
/// (`sse`, `sse+websocket`); null endpoints when the host offers none.
fn push_endpoints(report: &capabilities::Report) -> Value {
    let push = report
        .backends
        .iter()
        .find(|b| b.capability == "push" && b.healthy);
    let offers = |transport: &str| push.is_some_and(|b| b.name.split('+').any(|t| t == transport));
    json!({
        "sse": offers("sse").then_some("/api/events/stream"),
        "websocket": offers("websocket").then_some("/api/ws"),
    })
}

/// Users, agents, projects and storage size; a storage outage reports nulls rather than
/// failing the whole features answer.
fn counts() -> Value {
    let count = |collection: &str| storage::count(collection, &[]).map_err(to_api).ok();
    let stats = storage::stats().ok();
    json!({
        "users": count("users"),
        "agents": count("agents"),
        "projects": count("projects"),
        "documents": stats.as_ref().map(|s| s.documents),
        "storage_mb": stats.map(|s| (s.size_bytes as f64 / 1_048_576.0 * 100.0).round() / 100.0),
    })
}
