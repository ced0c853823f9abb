//! The realtime capability: ordered, bounded event channels.

pub mod activity_log;
pub mod in_process;
pub mod limited;
pub mod metered;
pub mod redis;
pub mod wait;

use crate::backend_status::BackendStatus;
use crate::capability_error::CapResult;

/// Events kept per channel and their age limit: the same on every host (the Spin adapter's
/// event log keeps exactly as many).
pub use marcus_core::realtime_limits::{RETAIN_EVENTS, RETAIN_MS};

/// One published event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Channel name.
    pub channel: String,
    /// Position in the channel, from 1.
    pub seq: u64,
    /// JSON text.
    pub payload: String,
    /// Milliseconds since the Unix epoch.
    pub published_at: u64,
}

/// A poll answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// Events after `since`, in order.
    pub events: Vec<Event>,
    /// Latest sequence number of the channel (0 if none).
    pub latest: u64,
    /// Oldest retained sequence number (0 if none).
    pub oldest: u64,
}

/// A realtime backend.
#[async_trait::async_trait]
pub trait RealtimeBackend: Send + Sync {
    /// Name and health.
    async fn status(&self) -> BackendStatus;
    /// Appends an event, returns its sequence number.
    async fn publish(&self, channel: &str, payload: &str) -> CapResult<u64>;
    /// Events with `seq > since`, at most `limit`.
    async fn poll(&self, channel: &str, since: u64, limit: u32) -> CapResult<Batch>;
    /// Live events of every channel as this host learns of them, for host-served push.
    /// A slow receiver lags (and is told so); it never holds up publishers.
    fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Event>;
}
