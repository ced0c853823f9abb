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
        }),
    ))
}

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
