//! One Marcus event as the adapter announces it on Redis.

use serde::Deserialize;

/// The fields the worker logs, from `{"channel", "seq", "published_at", "payload"}`.
#[derive(Debug, Clone, Deserialize)]
pub struct EventMessage {
    /// The realtime channel as the installation names it, e.g. `acme/project:<id>`.
    pub channel: String,
    /// The event's sequence number in its channel.
    pub seq: u64,
}

impl EventMessage {
    /// Decodes a Redis message; `None` for anything that is not a Marcus event.
    pub fn parse(message: &[u8]) -> Option<Self> {
        serde_json::from_slice(message).ok()
    }
}
