//! Announces every published event on one Redis pub/sub channel when `redis_address` is
//! set, so Spin's Redis trigger can run background jobs (the worker component) on it.
//!
//! The log in SQLite stays the source of truth: a failed announcement loses no event, it
//! only delays the background work until the next change.

use crate::bindings::redis::Connection;
use crate::settings;

/// The Redis channel carrying Marcus's events; the worker's `[[trigger.redis]]` listens here.
pub const EVENTS_CHANNEL: &str = "marcus-events";

/// The JSON message for one event: `{"channel", "seq", "published_at", "payload"}`, with
/// the payload as the JSON value it is. `channel` is the installation's name of the channel
/// (`tenant/channel`): one Redis channel carries every tenant's events to the worker, which
/// runs every tenant's jobs whichever tenant's event woke it.
pub fn message(channel: &str, seq: u64, payload: &str, published_at: u64) -> String {
    let payload = serde_json::from_str::<serde_json::Value>(payload)
        .unwrap_or_else(|_| serde_json::Value::String(payload.to_string()));
    serde_json::json!({
        "channel": channel,
        "seq": seq,
        "published_at": published_at,
        "payload": payload,
    })
    .to_string()
}

/// Publishes the event when Redis is configured; failures are reported on stderr only.
pub fn announce(channel: &str, seq: u64, payload: &str, published_at: u64) {
    let Some(address) = settings::configured(settings::REDIS_ADDRESS) else {
        return;
    };
    let body = message(channel, seq, payload, published_at);
    let sent =
        Connection::open(&address).and_then(|redis| redis.publish(EVENTS_CHANNEL, body.as_bytes()));
    if let Err(e) = sent {
        eprintln!(
            "marcus spin adapter: announcing {channel}#{seq} on Redis {}: {e:?}",
            settings::without_credentials(&address)
        );
    }
}

/// Whether the configured Redis answers, with a detail for the capability report.
pub fn probe() -> Option<(bool, String)> {
    let address = settings::configured(settings::REDIS_ADDRESS)?;
    let shown = settings::without_credentials(&address);
    Some(
        match Connection::open(&address).and_then(|redis| redis.get("marcus:probe")) {
            Ok(_) => (true, format!("{shown}, channel {EVENTS_CHANNEL}")),
            Err(e) => (false, format!("{shown}: {e:?}")),
        },
    )
}
