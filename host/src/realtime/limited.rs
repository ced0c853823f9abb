//! The realtime limits of `marcus_core::realtime_limits`, in front of any backend: an
//! oversized event is refused before it reaches memory or Redis, and a poll answer never
//! carries more payload bytes than the app's memory can take.

use super::{Batch, Event, RealtimeBackend};
use crate::backend_status::BackendStatus;
use crate::capability_error::{CapResult, CapabilityError};
use marcus_core::realtime_limits::{oversized, poll_page_len};
use std::sync::Arc;

/// Applies the limits to `inner`.
pub struct LimitedRealtime {
    inner: Arc<dyn RealtimeBackend>,
}

impl LimitedRealtime {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn RealtimeBackend>) -> Self {
        Self { inner }
    }
}

#[async_trait::async_trait]
impl RealtimeBackend for LimitedRealtime {
    async fn status(&self) -> BackendStatus {
        self.inner.status().await
    }

    async fn publish(&self, channel: &str, payload: &str) -> CapResult<u64> {
        if let Some(refusal) = oversized(payload.len()) {
            return Err(CapabilityError::Invalid(refusal));
        }
        self.inner.publish(channel, payload).await
    }

    async fn poll(&self, channel: &str, since: u64, limit: u32) -> CapResult<Batch> {
        let mut batch = self.inner.poll(channel, since, limit).await?;
        let keep = poll_page_len(batch.events.iter().map(|e| e.payload.len()));
        batch.events.truncate(keep);
        Ok(batch)
    }

    fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Event> {
        self.inner.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::realtime::in_process::InProcessRealtime;
    use marcus_core::realtime_limits::{MAX_EVENT_BYTES, MAX_POLL_BYTES};

    #[tokio::test]
    async fn oversized_events_are_refused_and_polls_are_paged() {
        let rt = LimitedRealtime::new(Arc::new(InProcessRealtime::default()));
        let too_big = "x".repeat(MAX_EVENT_BYTES + 1);
        assert!(matches!(
            rt.publish("c", &too_big).await,
            Err(CapabilityError::Invalid(_))
        ));
        let full = "y".repeat(MAX_EVENT_BYTES);
        for _ in 0..40 {
            rt.publish("c", &full).await.unwrap();
        }
        let page = rt.poll("c", 0, 1000).await.unwrap();
        let bytes: usize = page.events.iter().map(|e| e.payload.len()).sum();
        assert!(bytes <= MAX_POLL_BYTES, "{bytes}");
        assert_eq!(page.events.len(), MAX_POLL_BYTES / MAX_EVENT_BYTES);
        let next = rt
            .poll("c", page.events.last().unwrap().seq, 1000)
            .await
            .unwrap();
        assert_eq!(next.events[0].seq, page.events.last().unwrap().seq + 1);
    }
}
