//! `/healthz` and `/readyz`, answered by the host so that both tell the truth when the app
//! cannot run: liveness needs no execution slot, readiness says when requests cannot be
//! served (storage down, every slot busy for too long, the connection cap reached).

use crate::connection_cap::ConnectionCap;
use crate::platform::Platform;
use crate::slots::Slots;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use std::sync::Arc;
use std::time::Duration;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// How long every slot may be busy before readiness reports the host cannot serve.
pub const SATURATION_GRACE: Duration = Duration::from_secs(2);

/// What readiness looks at.
pub struct Health {
    /// The backends.
    pub platform: Arc<Platform>,
    /// Execution slots.
    pub slots: Arc<Slots>,
    /// Open connections against their cap.
    pub connections: Arc<ConnectionCap>,
}

/// `GET /healthz`: the process is alive and accepting requests. Same body as the app's own
/// route (Spin serves that one), without needing a slot.
pub fn liveness() -> hyper::Response<HyperOutgoingBody> {
    json(200, &serde_json::json!({"status": "ok"}))
}

impl Health {
    /// `GET /readyz`: 200 when every check passes, else 503; each check is listed either way.
    /// Storage must answer (its schema was brought up to date at start, or the host would not
    /// be running), a slot must have been free within [`SATURATION_GRACE`], and the
    /// connection cap must not be reached.
    pub async fn readiness(&self) -> hyper::Response<HyperOutgoingBody> {
        let storage = self.platform.storage.status().await;
        let saturated = self.slots.saturated_for();
        let slots_healthy = saturated.is_none_or(|d| d < SATURATION_GRACE);
        let connections_healthy = !self.connections.is_full();
        let ready = storage.healthy && slots_healthy && connections_healthy;
        let body = serde_json::json!({
            "status": if ready { "ready" } else { "not_ready" },
            "checks": {
                "storage": {"backend": storage.name, "healthy": storage.healthy, "detail": storage.detail},
                "schema": {"healthy": true, "detail": "up to date since start"},
                "slots": {
                    "healthy": slots_healthy,
                    "busy": self.slots.busy(),
                    "size": self.slots.size(),
                    "all_busy_ms": saturated.map(|d| d.as_millis() as u64),
                },
                "connections": {
                    "healthy": connections_healthy,
                    "open": self.connections.open(),
                    "limit": self.connections.limit(),
                },
            }
        });
        json(if ready { 200 } else { 503 }, &body)
    }

    /// Publishes the slot and connection gauges (at scrape time).
    pub fn record_gauges(&self) {
        metrics::gauge!("marcus_busy_slots").set(self.slots.busy() as f64);
        metrics::gauge!("marcus_open_connections").set(self.connections.open() as f64);
    }
}

fn json(status: u16, body: &serde_json::Value) -> hyper::Response<HyperOutgoingBody> {
    hyper::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(
            Full::new(Bytes::from(body.to_string()))
                .map_err(|never| match never {})
                .boxed_unsync(),
        )
        .expect("static response parts are valid")
}
