//! One Marcus event as the adapter announces it on Redis.

use serde::Deserialize;

/// The fields jobs route on, from `{"channel", "seq", "published_at", "payload"}`.
#[derive(Debug, Clone, Deserialize)]
pub struct EventMessage {
    /// The realtime channel, e.g. `project:<id>` or `agents`.
    pub channel: String,
    /// The event's sequence number in its channel.
    pub seq: u64,
}

impl EventMessage {
    /// Decodes a Redis message; `None` for anything that is not a Marcus event.
    pub fn parse(message: &[u8]) -> Option<Self> {
        serde_json::from_slice(message).ok()
    }

    /// The project an event belongs to, from its channel name.
    pub fn project_id(&self) -> Option<&str> {
        self.channel
            .strip_prefix("project:")
            .filter(|id| !id.is_empty())
    }
}
