//! `/api/openapi.json`, generated from the same tables and rules that route and check
//! requests: the board's route table and the tools' argument and result schemas, the
//! names rule, the routes' limits. Every operation lists every status it can answer.

mod app_ops;
mod board_ops;
mod host_ops;
mod jobs_ops;
mod operation;
mod schemas;
mod storage_ops;
mod webhook_ops;

use crate::http_io::Response;
use marcus_core::api_error::ApiError;
use serde_json::{Map, Value, json};

/// Builds the document.
pub fn document() -> Value {
    let mut operations = board_ops::operations();
    operations.extend(app_ops::operations());
    operations.extend(storage_ops::operations());
    operations.extend(jobs_ops::operations());
    operations.extend(webhook_ops::operations());
    operations.extend(host_ops::operations());
    let mut paths: Map<String, Value> = Map::new();
    for op in operations {
        let method = op.method.clone();
        let path = op.path.clone();
        if let Value::Object(m) = paths.entry(path).or_insert_with(|| json!({})) {
            m.insert(method, op.build());
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Marcus", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Coordination board for AI coding agents. Every error is {\"error\": {\"code\", \"message\"}}; a 405 names the path's methods in Allow. Request bodies are JSON (Content-Type application/json) of at most 1 MiB."},
        "paths": paths,
        "components": {"schemas": schemas::components()},
    })
}

/// `GET /api/openapi.json`.
pub fn get() -> Result<Response, ApiError> {
    Ok(Response::json(200, &document()))
}
