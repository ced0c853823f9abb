//! Routes the native host answers itself, before the app runs: readiness, the Prometheus
//! scrape and the push streams. The app writes them into the document because it writes the
//! document; on Spin the component serves the SSE stream and the others are absent.

use super::operation::{Operation, ServedBy};
use super::schemas::{count, object_with};
use serde_json::json;

/// `/readyz`, `/metrics`, `/api/events/stream`, `/api/ws`.
pub fn operations() -> Vec<Operation> {
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
    ]
}
