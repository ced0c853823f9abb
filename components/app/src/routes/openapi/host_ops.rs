//! Routes the native host answers itself, before the app runs: readiness, the Prometheus
//! scrape and the push streams. The app writes them into the document because it writes the
//! document; on Spin the component serves the SSE stream and the others are absent.

use super::operation::{Operation, ServedBy};
use super::schemas::{count, object_with};
use serde_json::json;

/// `/readyz`, `/metrics`, `/api/events/stream`, `/api/ws`, the token and tenant admin APIs
/// and the protected resource metadata.
pub fn operations() -> Vec<Operation> {
    let token_view = object_with(&[
        ("id", json!({"type": "string"})),
        ("name", json!({"type": "string"})),
        (
            "role",
            json!({"enum": ["admin", "member", "agent", "viewer"]}),
        ),
        (
            "agent_ids",
            json!({"type": "array", "items": {"type": "string"}}),
        ),
        ("expires_at", count()),
        ("state", json!({"enum": ["active", "expired", "revoked"]})),
        ("tenant", json!({"type": "string"})),
        ("server_admin", json!({"type": "boolean"})),
    ]);
    let limit = json!({"type": ["integer", "null"], "minimum": 0,
                       "maximum": marcus_identity::tenant::MAX_QUOTA});
    let quotas = json!({"type": "object", "additionalProperties": false, "properties": {
        "projects": limit.clone(), "tasks": limit.clone(), "stored_mb": limit.clone(),
        "requests_per_minute": limit}});
    let tenant_view = object_with(&[
        ("name", json!({"type": "string"})),
        ("status", json!({"enum": ["active", "disabled"]})),
        ("quotas", json!({"type": "object"})),
        ("created_at", count()),
    ]);
    let one_tenant = object_with(&[("tenant", tenant_view.clone())]);
    let channel = json!({"type": "string", "minLength": 1, "maxLength": marcus_core::names::MAX_NAME_LEN,
                         "pattern": marcus_core::names::NAME_PATTERN});
    vec![
        Operation::new("GET", "/readyz", "operations", "Readiness: storage answers")
            .served_by(ServedBy::Host)
            .without_backends()
            .answers(200, "Ready", object_with(&[("status", json!({"const": "ready"})), ("checks", json!({"type": "object"}))]))
            .answers(503, "Not ready (each check says why)", object_with(&[("status", json!({"const": "not_ready"})), ("checks", json!({"type": "object"}))])),
        Operation::new("GET", "/metrics", "operations", "Prometheus metrics (text exposition format)")
            .served_by(ServedBy::Host)
            .without_backends()
            .answers_media(200, "Metrics", &[("text/plain", json!({"type": "string"}))]),
        Operation::new("GET", "/api/events/stream", "push", "One realtime channel as Server-Sent Events")
            .served_by(ServedBy::Host)
            .description("Messages are `id: <seq>` plus `data:` lines with the event's JSON. A reconnecting client sends Last-Event-ID and first gets what it missed. On Spin the component serves the stream for a bounded time and answers 503 `unavailable` without the realtime log.")
            .required_query("channel", channel, "The channel")
            .query("since", count(), "Replay retained events after this sequence number first")
            .header("Last-Event-ID", false, json!({"type": "string", "pattern": "^[0-9]{1,19}$"}), "Resume after this sequence number (wins over since)")
            .answers_media(200, "The event stream", &[("text/event-stream", json!({"type": "string"}))])
            .fails(400, &["bad_request"]),
        Operation::new("GET", "/api/ws", "push", "WebSocket push with per-channel subscriptions")
            .served_by(ServedBy::Host)
            .description("Client frames: {\"type\": \"subscribe\", \"channel\", \"since\"?}, {\"type\": \"unsubscribe\", \"channel\"}, {\"type\": \"ping\"}. Server frames: subscribed, unsubscribed, event {channel, seq, payload, published_at}, pong, error.")
            .header("Upgrade", true, json!({"type": "string", "enum": ["websocket"]}), "WebSocket upgrade")
            .header("Sec-WebSocket-Key", true, json!({"type": "string"}), "The client's handshake key")
            .answers_media(101, "Switching protocols", &[])
            .fails(400, &["bad_request"])
            .fails(404, &["not_found"]),
        Operation::new("GET", "/api/admin/tokens", "admin", "Every access token (never the token itself, never its digest)")
            .served_by(ServedBy::Host)
            .answers(200, "The tokens", object_with(&[("tokens", json!({"type": "array", "items": token_view.clone()}))])),
        Operation::new("POST", "/api/admin/tokens", "admin", "Make an access token; the answer is the only place it is shown")
            .served_by(ServedBy::Host)
            .json_body(true, json!({"type": "object", "required": ["name", "role"], "additionalProperties": false, "properties": {
                "name": super::operation::name_schema(),
                "role": {"enum": ["admin", "member", "agent", "viewer"]},
                "agent_ids": {"type": "array", "items": super::operation::name_schema(), "description": "The agents an agent token acts as (required for role agent, refused for the others)"},
                "expires": {"type": ["string", "null"], "pattern": "^[0-9]{1,6}[dh]$", "description": "Lifetime such as 30d or 12h (30d when null or absent), at most 365d"},
                "tenant": {"type": ["string", "null"], "description": "The token's tenant: the caller's when absent; only a server administrator may name another"},
                "server_admin": {"type": "boolean", "description": "An admin token that also manages tenants (a server administrator's call only)"}}}))
            .answers(201, "The token and its record", object_with(&[("token", json!({"type": "string", "pattern": "^mcs_"})), ("record", token_view.clone())]))
            .fails(400, &["bad_request"])
            .fails(403, &["forbidden"]),
        Operation::new("DELETE", "/api/admin/tokens/{token_id}", "admin", "Revoke an access token at once")
            .served_by(ServedBy::Host)
            .answers(200, "The revoked token's record", object_with(&[("record", token_view)]))
            .fails(404, &["not_found"]),
        Operation::new("GET", "/api/admin/tenants", "admin", "Every tenant, the default one first")
            .served_by(ServedBy::Host)
            .answers(200, "The tenants", object_with(&[("tenants", json!({"type": "array", "items": tenant_view}))])),
        Operation::new("POST", "/api/admin/tenants", "admin", "Make a tenant")
            .served_by(ServedBy::Host)
            .json_body(true, json!({"type": "object", "required": ["name"], "additionalProperties": false, "properties": {
                "name": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,39}$"},
                "quotas": quotas.clone()}}))
            .answers(201, "The tenant", one_tenant.clone())
            .fails(400, &["bad_request"])
            .fails(409, &["conflict"]),
        Operation::new("GET", "/api/admin/tenants/{tenant}", "admin", "One tenant")
            .served_by(ServedBy::Host)
            .answers(200, "The tenant", one_tenant.clone())
            .fails(404, &["not_found"]),
        Operation::new("POST", "/api/admin/tenants/{tenant}/disable", "admin", "Refuse every credential of a tenant (its data stays)")
            .served_by(ServedBy::Host)
            .answers(200, "The tenant", one_tenant.clone())
            .fails(404, &["not_found"])
            .fails(409, &["conflict"]),
        Operation::new("POST", "/api/admin/tenants/{tenant}/enable", "admin", "Serve a disabled tenant again")
            .served_by(ServedBy::Host)
            .answers(200, "The tenant", one_tenant.clone())
            .fails(404, &["not_found"]),
        Operation::new("PUT", "/api/admin/tenants/{tenant}/quotas", "admin", "Replace a tenant's quotas (absent: no limit)")
            .served_by(ServedBy::Host)
            .json_body(true, quotas)
            .answers(200, "The tenant", one_tenant)
            .fails(400, &["bad_request"])
            .fails(404, &["not_found"]),
        Operation::new("GET", "/.well-known/oauth-protected-resource/mcp", "auth", "Protected resource metadata of /mcp (RFC 9728): the identity provider to ask for an access token")
            .served_by(ServedBy::Host)
            .without_backends()
            .answers(200, "The metadata", object_with(&[("resource", json!({"type": "string"})), ("authorization_servers", json!({"type": "array", "items": {"type": "string"}}))]))
            .fails(404, &["not_found"]),
    ]
}
