//! In-process realtime: a bounded ring per channel plus a broadcast for live subscribers.
//! Serves one host process; the team tier replaces it with Redis pub/sub.
//!
//! Rings are bounded by count, age and payload bytes per channel, and all rings together by
//! payload bytes ([`MAX_CHANNEL_BYTES`], [`MAX_TOTAL_BYTES`]): the oldest events go first, so
//! memory stays bounded whatever is published.

use super::{Batch, Event, RETAIN_EVENTS, RETAIN_MS, RealtimeBackend};
use crate::backend_status::BackendStatus;
use crate::capability_error::{CapResult, CapabilityError};
use crate::storage::now_ms;
use marcus_core::realtime_limits::{MAX_CHANNEL_BYTES, MAX_TOTAL_BYTES};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use tokio::sync::broadcast;

#[derive(Default)]
struct Channel {
    latest: u64,
    ring: VecDeque<Event>,
    /// Payload bytes in `ring`.
    bytes: usize,
}

impl Channel {
    fn pop_oldest(&mut self) -> usize {
        let freed = self.ring.pop_front().map_or(0, |e| e.payload.len());
        self.bytes -= freed;
        freed
    }
}

/// Every channel and the byte accounting across them.
#[derive(Default)]
struct Channels {
    by_name: HashMap<String, Channel>,
    /// Payload bytes over all rings.
    bytes: usize,
    /// `(channel, seq)` of retained events in publish order, for evicting the oldest over
    /// all channels; entries of events already trimmed are skipped when reached.
    order: VecDeque<(String, u64)>,
}

/// The in-process backend.
pub struct InProcessRealtime {
    channels: Mutex<Channels>,
    live: broadcast::Sender<Event>,
    retain_events: usize,
    retain_ms: u64,
}

impl Default for InProcessRealtime {
    fn default() -> Self {
        Self::new(RETAIN_EVENTS, RETAIN_MS)
    }
}

impl InProcessRealtime {
    /// A backend keeping at most `retain_events` per channel, none older than `retain_ms`.
    pub fn new(retain_events: usize, retain_ms: u64) -> Self {
        Self {
            channels: Mutex::new(Channels::default()),
            live: broadcast::channel(1024).0,
            retain_events: retain_events.max(1),
            retain_ms,
        }
    }

    /// Drops what `ch` may no longer keep; returns the payload bytes freed.
    fn trim(&self, ch: &mut Channel, now: u64) -> usize {
        let mut freed = 0;
        while ch.ring.len() > self.retain_events
            || (ch.bytes > MAX_CHANNEL_BYTES && ch.ring.len() > 1)
        {
            freed += ch.pop_oldest();
        }
        while ch
            .ring
            .front()
            .is_some_and(|e| now.saturating_sub(e.published_at) > self.retain_ms)
        {
            freed += ch.pop_oldest();
        }
        freed
    }
}

impl Channels {
    /// Evicts the oldest events over all channels until the total fits, keeping at least the
    /// newest event published.
    fn evict_over_total(&mut self) {
        while self.bytes > MAX_TOTAL_BYTES && self.order.len() > 1 {
            let Some((name, seq)) = self.order.pop_front() else {
                break;
            };
            if let Some(ch) = self.by_name.get_mut(&name)
                && ch.ring.front().is_some_and(|e| e.seq == seq)
            {
                self.bytes -= ch.pop_oldest();
            }
        }
        // Entries whose events were trimmed per channel linger until reached; keep the
        // queue from growing past what the rings can hold.
        if self.order.len().is_multiple_of(1024)
            && self.order.len() > 4 * self.by_name.values().map(|c| c.ring.len()).sum::<usize>()
        {
            let live: std::collections::HashSet<(String, u64)> = self
                .by_name
                .iter()
                .flat_map(|(n, c)| c.ring.iter().map(move |e| (n.clone(), e.seq)))
                .collect();
            self.order.retain(|entry| live.contains(entry));
        }
    }
}

#[async_trait::async_trait]
impl RealtimeBackend for InProcessRealtime {
    async fn status(&self) -> BackendStatus {
        let n = self.channels.lock().map(|c| c.by_name.len()).unwrap_or(0);
        BackendStatus::healthy("in-process", format!("{n} channels, this process only"))
    }

    async fn publish(&self, channel: &str, payload: &str) -> CapResult<u64> {
        let now = now_ms();
        let event = {
            let mut channels = self
                .channels
                .lock()
                .map_err(|_| CapabilityError::Internal("realtime lock poisoned".into()))?;
            let channels = &mut *channels;
            let ch = channels.by_name.entry(channel.to_string()).or_default();
            ch.latest += 1;
            let event = Event {
                channel: channel.to_string(),
                seq: ch.latest,
                payload: payload.to_string(),
                published_at: now,
            };
            ch.ring.push_back(event.clone());
            ch.bytes += payload.len();
            let freed = self.trim(ch, now);
            channels.bytes = channels.bytes + payload.len() - freed;
            channels.order.push_back((channel.to_string(), event.seq));
            channels.evict_over_total();
            event
        };
        let seq = event.seq;
        // No live subscriber is fine: the ring keeps the event for polling.
        let _ = self.live.send(event);
        Ok(seq)
    }

    async fn poll(&self, channel: &str, since: u64, limit: u32) -> CapResult<Batch> {
        let now = now_ms();
        let mut channels = self
            .channels
            .lock()
            .map_err(|_| CapabilityError::Internal("realtime lock poisoned".into()))?;
        let channels = &mut *channels;
        let Some(ch) = channels.by_name.get_mut(channel) else {
            return Ok(Batch {
                events: Vec::new(),
                latest: 0,
                oldest: 0,
            });
        };
        let freed = self.trim(ch, now);
        channels.bytes -= freed;
        let events = ch
            .ring
            .iter()
            .filter(|e| e.seq > since)
            .take(limit as usize)
            .cloned()
            .collect();
        Ok(Batch {
            events,
            latest: ch.latest,
            oldest: ch.ring.front().map(|e| e.seq).unwrap_or(0),
        })
    }

    fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.live.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn retention_by_count_and_age() {
        let rt = InProcessRealtime::new(3, RETAIN_MS);
        for i in 0..5 {
            rt.publish("c", &i.to_string()).await.unwrap();
        }
        let b = rt.poll("c", 0, 10).await.unwrap();
        assert_eq!(
            b.events.iter().map(|e| e.seq).collect::<Vec<_>>(),
            vec![3, 4, 5]
        );
        assert_eq!((b.oldest, b.latest), (3, 5));

        let aged = InProcessRealtime::new(100, 0);
        aged.publish("c", "1").await.unwrap();
        std::thread::sleep(std::time::Duration::from_millis(5));
        let b = aged.poll("c", 0, 10).await.unwrap();
        assert!(b.events.is_empty());
        assert_eq!(b.latest, 1);
    }

    #[tokio::test]
    async fn retention_by_bytes_per_channel_and_in_total() {
        let rt = InProcessRealtime::new(100_000, RETAIN_MS);
        let event = "x".repeat(64 * 1024);
        for _ in 0..200 {
            rt.publish("one", &event).await.unwrap();
        }
        let b = rt.poll("one", 0, 100_000).await.unwrap();
        assert_eq!(b.events.len(), MAX_CHANNEL_BYTES / event.len());
        assert_eq!(b.latest, 200);
        for c in 0..40 {
            for _ in 0..64 {
                rt.publish(&format!("c{c}"), &event).await.unwrap();
            }
        }
        let channels = rt.channels.lock().unwrap();
        let held: usize = channels.by_name.values().map(|c| c.bytes).sum();
        assert_eq!(held, channels.bytes);
        assert!(channels.bytes <= MAX_TOTAL_BYTES, "{}", channels.bytes);
        assert!(channels.order.len() <= 4 * (MAX_TOTAL_BYTES / event.len()) + 1024);
        // The newest channel is whole; the oldest ones went first.
        assert_eq!(channels.by_name["c39"].ring.len(), 64);
        assert!(channels.by_name["one"].ring.is_empty());
    }
}
