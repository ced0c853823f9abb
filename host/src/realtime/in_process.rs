//! In-process realtime: a bounded ring per channel plus a broadcast for live subscribers.
//! Serves one host process; the team tier replaces it with Redis pub/sub.

use super::{Batch, Event, RETAIN_EVENTS, RETAIN_MS, RealtimeBackend};
use crate::backend_status::BackendStatus;
use crate::capability_error::{CapResult, CapabilityError};
use crate::storage::now_ms;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use tokio::sync::broadcast;

#[derive(Default)]
struct Channel {
    latest: u64,
    ring: VecDeque<Event>,
}

/// The in-process backend.
pub struct InProcessRealtime {
    channels: Mutex<HashMap<String, Channel>>,
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
            channels: Mutex::new(HashMap::new()),
            live: broadcast::channel(1024).0,
            retain_events: retain_events.max(1),
            retain_ms,
        }
    }

    fn trim(&self, ch: &mut Channel, now: u64) {
        while ch.ring.len() > self.retain_events {
            ch.ring.pop_front();
        }
        while ch
            .ring
            .front()
            .is_some_and(|e| now.saturating_sub(e.published_at) > self.retain_ms)
        {
            ch.ring.pop_front();
        }
    }
}

#[async_trait::async_trait]
impl RealtimeBackend for InProcessRealtime {
    async fn status(&self) -> BackendStatus {
        let n = self.channels.lock().map(|c| c.len()).unwrap_or(0);
        BackendStatus::healthy("in-process", format!("{n} channels, this process only"))
    }

    async fn publish(&self, channel: &str, payload: &str) -> CapResult<u64> {
        let now = now_ms();
        let event = {
            let mut channels = self
                .channels
                .lock()
                .map_err(|_| CapabilityError::Internal("realtime lock poisoned".into()))?;
            let ch = channels.entry(channel.to_string()).or_default();
            ch.latest += 1;
            let event = Event {
                channel: channel.to_string(),
                seq: ch.latest,
                payload: payload.to_string(),
                published_at: now,
            };
            ch.ring.push_back(event.clone());
            self.trim(ch, now);
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
        let Some(ch) = channels.get_mut(channel) else {
            return Ok(Batch {
                events: Vec::new(),
                latest: 0,
                oldest: 0,
            });
        };
        self.trim(ch, now);
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
}
