//! A realtime backend wrapper that counts published events and reads the lease lifecycle
//! off board events (`task_assigned` = granted, `task_progress` = renewed, `lease_expired`
//! = expired). Board events go out on both `project:<id>` and `agents`; only the project
//! channel is counted, so each event counts once.

use super::{Batch, Event, RealtimeBackend};
use crate::backend_status::BackendStatus;
use crate::capability_error::CapResult;
use std::sync::Arc;

/// Measures `inner`.
pub struct MeteredRealtime {
    inner: Arc<dyn RealtimeBackend>,
    backend: &'static str,
}

impl MeteredRealtime {
    /// Wraps `inner`, labelled `backend` (in-process, redis).
    pub fn new(inner: Arc<dyn RealtimeBackend>, backend: &'static str) -> Self {
        Self { inner, backend }
    }
}

/// The lease event a board event payload stands for, if any.
pub fn lease_event(payload: &str) -> Option<&'static str> {
    let kind = serde_json::from_str::<serde_json::Value>(payload)
        .ok()?
        .get("kind")?
        .as_str()?
        .to_string();
    match kind.as_str() {
        "task_assigned" => Some("granted"),
        "task_progress" => Some("renewed"),
        "lease_expired" => Some("expired"),
        _ => None,
    }
}

#[async_trait::async_trait]
impl RealtimeBackend for MeteredRealtime {
    async fn status(&self) -> BackendStatus {
        self.inner.status().await
    }

    async fn publish(&self, channel: &str, payload: &str) -> CapResult<u64> {
        let result = self.inner.publish(channel, payload).await;
        if result.is_ok() {
            super::activity_log::record(channel, payload);
            metrics::counter!("marcus_realtime_events_published_total", "backend" => self.backend)
                .increment(1);
            let own =
                marcus_identity::tenant::split_scoped(channel).map_or(channel, |(_, own)| own);
            if own.starts_with("project:")
                && let Some(event) = lease_event(payload)
            {
                metrics::counter!("marcus_leases_total", "event" => event).increment(1);
            }
        }
        result
    }

    async fn poll(&self, channel: &str, since: u64, limit: u32) -> CapResult<Batch> {
        self.inner.poll(channel, since, limit).await
    }

    fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Event> {
        self.inner.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lease_events_from_board_events() {
        assert_eq!(lease_event(r#"{"kind":"task_assigned"}"#), Some("granted"));
        assert_eq!(lease_event(r#"{"kind":"task_progress"}"#), Some("renewed"));
        assert_eq!(lease_event(r#"{"kind":"lease_expired"}"#), Some("expired"));
        assert_eq!(lease_event(r#"{"kind":"task_completed"}"#), None);
        assert_eq!(lease_event("not json"), None);
    }
}
