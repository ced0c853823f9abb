//! `marcus:platform/realtime` on top of [`crate::realtime::RealtimeBackend`], every channel
//! in the request's tenant.

use super::bindings::marcus::platform::realtime as wit;
use super::bindings::marcus::platform::types::Error;
use super::{PlatformView, to_wit};
use crate::realtime::wait;
use marcus_core::realtime_limits::MAX_WAIT_MS;
use marcus_identity::tenant::scoped;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

impl wit::Host for PlatformView {
    async fn publish(&mut self, channel: String, payload: String) -> Result<u64, Error> {
        self.record_call("realtime", "publish");
        let channel = scoped(&self.tenant()?, &channel);
        self.platform
            .realtime
            .publish(&channel, &payload)
            .await
            .map_err(to_wit)
    }

    async fn poll(&mut self, channel: String, since: u64, limit: u32) -> Result<wit::Batch, Error> {
        self.record_call("realtime", "poll");
        let tenant = self.tenant()?;
        let own = channel;
        let channel = scoped(&tenant, &own);
        let b = self
            .platform
            .realtime
            .poll(&channel, since, limit)
            .await
            .map_err(to_wit)?;
        Ok(wit::Batch {
            events: b
                .events
                .into_iter()
                .map(|e| wit::Event {
                    // The tenant's own name: the installation's stays in the host.
                    channel: own.clone(),
                    seq: e.seq,
                    payload: e.payload,
                    published_at: e.published_at,
                })
                .collect(),
            latest: b.latest,
            oldest: b.oldest,
        })
    }

    async fn wait(&mut self, channel: String, since: u64, timeout_ms: u32) -> Result<u64, Error> {
        self.record_call("realtime", "wait");
        let channel = scoped(&self.tenant()?, &channel);
        let timeout = Duration::from_millis(u64::from(timeout_ms.min(MAX_WAIT_MS)));
        let realtime = self.platform.realtime.clone();
        // Without a free waiting place the answer is the channel as it is now: the caller
        // answers as if the time had passed, and its client asks again.
        let Ok(_place) = self.platform.waiters.clone().try_acquire_owned() else {
            metrics::counter!("marcus_realtime_waits_total", "outcome" => "refused").increment(1);
            return Ok(realtime
                .poll(&channel, since, 1)
                .await
                .map_err(to_wit)?
                .latest);
        };
        let started = Instant::now();
        let latest = wait::next_event(realtime.as_ref(), &channel, since, timeout).await;
        let waited = started.elapsed();
        self.waited_ms
            .fetch_add(waited.as_millis() as u64, Ordering::Relaxed);
        let outcome = match &latest {
            Ok(seq) if *seq > since => "event",
            Ok(_) => "timeout",
            Err(_) => "error",
        };
        metrics::counter!("marcus_realtime_waits_total", "outcome" => outcome).increment(1);
        latest.map_err(to_wit)
    }
}
