//! Webhook subscriptions and their delivery log: team tier and above; on the solo tier
//! subscribing answers 403 `feature_unavailable`.

use super::operation::Operation;
use super::schemas::{count, int_range, object_with};
use crate::routes::webhooks::MAX_DELIVERIES;
use marcus_core::webhooks::subscription::{EVENT_KINDS, MAX_ATTEMPTS_LIMIT};
use serde_json::{Value, json};

fn new_webhook() -> Value {
    let mut kinds: Vec<&str> = vec!["*"];
    kinds.extend(EVENT_KINDS);
    json!({"type": "object", "required": ["url"], "additionalProperties": false, "properties": {
        "url": {"type": "string", "description": "Absolute http(s) URL with a host, no credentials, no fragment"},
        "events": {"type": ["array", "null"], "minItems": 1, "items": {"enum": kinds},
                   "description": "Event kinds to deliver; absent means all (*)"},
        "secret": {"type": ["string", "null"], "minLength": 16, "maxLength": 200,
                   "description": "Signing secret; absent means generated and returned once"},
        "max_attempts": {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_ATTEMPTS_LIMIT}
    }})
}

/// Subscribe, list, read, delete, and the delivery log.
pub fn operations() -> Vec<Operation> {
    let hook = json!({"type": "object", "required": ["id", "project_id", "url", "events", "max_attempts", "created_at"]});
    vec![
        Operation::new("POST", "/api/projects/{project_id}/webhooks", "webhooks", "Subscribe to a project's events")
            .description("Team tier and above: the solo tier answers 403 `feature_unavailable`. The answer holds the signing secret, the only time it is shown.")
            .json_body(true, new_webhook())
            .answers(201, "The subscription with its secret", object_with(&[("webhook", hook.clone())]))
            .fails(400, &["bad_request", "invalid"])
            .fails(403, &["feature_unavailable"])
            .fails(404, &["not_found"]),
        Operation::new("GET", "/api/projects/{project_id}/webhooks", "webhooks", "A project's subscriptions")
            .answers(200, "Subscriptions (no secrets)", object_with(&[("webhooks", json!({"type": "array", "items": hook.clone()}))]))
            .fails(404, &["project_not_found"]),
        Operation::new("GET", "/api/webhooks/{id}", "webhooks", "One subscription")
            .answers(200, "The subscription (no secret)", object_with(&[("webhook", hook)]))
            .fails(404, &["not_found"]),
        Operation::new("DELETE", "/api/webhooks/{id}", "webhooks", "Unsubscribe")
            .answers(200, "Deleted", object_with(&[("deleted", json!({"type": "string"}))]))
            .fails(404, &["not_found"])
            .fails(409, &["conflict"]),
        Operation::new("GET", "/api/webhooks/{id}/deliveries", "webhooks", "Deliveries with every attempt, newest first")
            .query("limit", int_range(1, MAX_DELIVERIES as u64), "Most deliveries listed (50 when absent)")
            .answers(200, "Deliveries and their total", object_with(&[
                ("deliveries", json!({"type": "array"})),
                ("total", count()),
            ]))
            .fails(400, &["bad_request"])
            .fails(404, &["not_found"]),
    ]
}
