//! Push to browsers, served by the host itself: Server-Sent Events at `/api/events/stream`
//! and WebSocket at `/api/ws`. Both read the realtime backend's live feed (in-process, or
//! Redis pub/sub across hosts) and its retained log for resuming. Every client has its own
//! task and its own bounded view of the feed, so a slow or dead client never holds up
//! another one or a publisher.

pub mod sse;
pub mod websocket;

use crate::backend_status::BackendStatus;
use crate::json_error;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// Path of the SSE endpoint.
pub const SSE_PATH: &str = "/api/events/stream";
/// Path of the WebSocket endpoint.
pub const WEBSOCKET_PATH: &str = "/api/ws";
/// Interval of keep-alive comments and pings, so proxies keep idle streams open and dead
/// peers are noticed.
pub const KEEPALIVE: std::time::Duration = std::time::Duration::from_secs(15);
/// Events read from the retained log per round trip when a client catches up.
pub const CATCH_UP_BATCH: u32 = 500;

/// Which push transports this host offers.
#[derive(Debug, Clone, Copy)]
pub struct PushSettings {
    /// `ENABLE_WEBSOCKETS` (on unless set to 0/false).
    pub websocket: bool,
}

impl PushSettings {
    /// The `push` entry of the capability report: the app derives the endpoints from the
    /// name (`sse`, `sse+websocket`).
    pub fn status(&self) -> BackendStatus {
        if self.websocket {
            BackendStatus::healthy("sse+websocket", format!("{SSE_PATH}, {WEBSOCKET_PATH}"))
        } else {
            BackendStatus::healthy("sse", format!("{SSE_PATH} (websockets off)"))
        }
    }
}

/// Channel names as the realtime API accepts them (the shared rule).
pub use marcus_core::event_stream::check_channel;

/// A 400 JSON error.
pub fn bad_request(message: &str) -> hyper::Response<HyperOutgoingBody> {
    json_error::response(400, "bad_request", message)
}

/// Counts an open push stream in `marcus_push_subscribers` for as long as it lives.
pub struct SubscriberGauge(&'static str);

impl SubscriberGauge {
    /// One more open stream of `transport`.
    pub fn open(transport: &'static str) -> Self {
        metrics::gauge!("marcus_push_subscribers", "transport" => transport).increment(1.0);
        Self(transport)
    }
}

impl Drop for SubscriberGauge {
    fn drop(&mut self) {
        metrics::gauge!("marcus_push_subscribers", "transport" => self.0).decrement(1.0);
    }
}
