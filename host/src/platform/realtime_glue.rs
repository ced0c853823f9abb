//! `marcus:platform/realtime` on top of [`crate::realtime::RealtimeBackend`].

use super::bindings::marcus::platform::realtime as wit;
use super::bindings::marcus::platform::types::Error;
use super::{PlatformView, to_wit};

impl wit::Host for PlatformView {
    async fn publish(&mut self, channel: String, payload: String) -> Result<u64, Error> {
        self.record_call("realtime", "publish");
        self.platform
            .realtime
            .publish(&channel, &payload)
            .await
            .map_err(to_wit)
    }

    async fn poll(&mut self, channel: String, since: u64, limit: u32) -> Result<wit::Batch, Error> {
        self.record_call("realtime", "poll");
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
                    channel: e.channel,
                    seq: e.seq,
                    payload: e.payload,
                    published_at: e.published_at,
                })
                .collect(),
            latest: b.latest,
            oldest: b.oldest,
        })
    }
}
