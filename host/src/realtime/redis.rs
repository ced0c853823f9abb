//! Redis realtime: channels shared by every host of a team.
//!
//! Publishing is one Lua script, so numbering, the retained log and the pub/sub message are a
//! single atomic step: sequence numbers and delivery order agree on every host. Each host
//! holds one pattern subscription and fans events out to its own push clients (SSE and
//! WebSocket); polling reads the retained log, so it works from any host.
//!
//! While Redis does not answer, publish and poll fall back to an in-process log, so no
//! request fails: those events reach this host's pollers only, numbered on their own, and
//! the capability reports unhealthy (so clients fall back from push to polling).
//!
//! Keys, under the installation's prefix: `rt:seq:<channel>` (the counter), `rt:log:<channel>`
//! (a sorted set of `"<seq> <published_at> <payload>"` scored by seq, bounded by count and
//! age) and the pub/sub channel `rt:ch:<channel>`.

use super::in_process::InProcessRealtime;
use super::{Batch, Event, RealtimeBackend};
use crate::backend_status::BackendStatus;
use crate::capability_error::{CapResult, CapabilityError};
use crate::redis_link::RedisLink;
use crate::storage::now_ms;
use futures::StreamExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::broadcast;

const PUBLISH: &str = r"
local seq = redis.call('INCR', KEYS[1])
local msg = seq .. ' ' .. ARGV[2] .. ' ' .. ARGV[1]
redis.call('ZADD', KEYS[2], seq, msg)
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(tonumber(ARGV[3]) + 1))
local cutoff = tonumber(ARGV[2]) - tonumber(ARGV[4])
while true do
  local first = redis.call('ZRANGE', KEYS[2], 0, 0)
  if #first == 0 then break end
  local ts = tonumber(string.match(first[1], '^%d+ (%d+) '))
  if ts == nil or ts >= cutoff then break end
  redis.call('ZREM', KEYS[2], first[1])
end
redis.call('PEXPIRE', KEYS[2], ARGV[4])
redis.call('PUBLISH', ARGV[5], msg)
return seq
";

/// The Redis realtime backend.
pub struct RedisRealtime {
    link: Arc<RedisLink>,
    fallback: InProcessRealtime,
    live: broadcast::Sender<Event>,
    subscribed: Arc<AtomicBool>,
    script: redis::Script,
    retain_events: usize,
    retain_ms: u64,
}

/// Splits a log entry or pub/sub message `"<seq> <published_at> <payload>"`.
fn parse_entry(channel: &str, entry: &str) -> Option<Event> {
    let mut parts = entry.splitn(3, ' ');
    let seq = parts.next()?.parse().ok()?;
    let published_at = parts.next()?.parse().ok()?;
    let payload = parts.next()?.to_string();
    Some(Event {
        channel: channel.to_string(),
        seq,
        payload,
        published_at,
    })
}

impl RedisRealtime {
    /// A backend on `link` keeping at most `retain_events` per channel, none older than
    /// `retain_ms`. Starts the pattern subscription that feeds this host's push clients.
    pub fn start(link: Arc<RedisLink>, retain_events: usize, retain_ms: u64) -> Arc<Self> {
        let backend = Arc::new(Self {
            link,
            fallback: InProcessRealtime::new(retain_events, retain_ms),
            live: broadcast::channel(1024).0,
            subscribed: Arc::new(AtomicBool::new(false)),
            script: redis::Script::new(PUBLISH),
            retain_events: retain_events.max(1),
            retain_ms,
        });
        let weak = Arc::downgrade(&backend);
        tokio::spawn(async move {
            loop {
                let Some(me) = weak.upgrade() else { return };
                me.listen().await;
                drop(me);
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
        backend
    }

    /// Holds one subscription until the connection drops.
    async fn listen(&self) {
        let prefix = self.link.key("rt:ch:");
        let mut pubsub = match self.link.client().get_async_pubsub().await {
            Ok(p) => p,
            Err(_) => return,
        };
        if pubsub.psubscribe(format!("{prefix}*")).await.is_err() {
            return;
        }
        self.subscribed.store(true, Ordering::SeqCst);
        let mut messages = pubsub.on_message();
        while let Some(msg) = messages.next().await {
            let name = msg.get_channel_name();
            let Some(channel) = name.strip_prefix(&prefix) else {
                continue;
            };
            let Ok(text) = msg.get_payload::<String>() else {
                continue;
            };
            if let Some(event) = parse_entry(channel, &text) {
                // No subscriber on this host is fine.
                let _ = self.live.send(event);
            }
        }
        self.subscribed.store(false, Ordering::SeqCst);
    }

    async fn publish_shared(&self, channel: &str, payload: &str) -> CapResult<u64> {
        let mut conn = self
            .link
            .connection()
            .ok_or_else(|| CapabilityError::Unavailable("redis is not answering".into()))?;
        let mut call = self.script.prepare_invoke();
        call.key(self.link.key(&format!("rt:seq:{channel}")))
            .key(self.link.key(&format!("rt:log:{channel}")))
            .arg(payload)
            .arg(now_ms())
            .arg(self.retain_events)
            .arg(self.retain_ms)
            .arg(self.link.key(&format!("rt:ch:{channel}")));
        self.link.run(call.invoke_async::<u64>(&mut conn)).await
    }

    async fn poll_shared(&self, channel: &str, since: u64, limit: u32) -> CapResult<Batch> {
        let mut conn = self
            .link
            .connection()
            .ok_or_else(|| CapabilityError::Unavailable("redis is not answering".into()))?;
        let log = self.link.key(&format!("rt:log:{channel}"));
        let (entries, latest, first): (Vec<String>, Option<u64>, Vec<String>) = self
            .link
            .run(
                redis::pipe()
                    .cmd("ZRANGEBYSCORE")
                    .arg(&log)
                    .arg(format!("({since}"))
                    .arg("+inf")
                    .arg("LIMIT")
                    .arg(0)
                    .arg(limit)
                    .cmd("GET")
                    .arg(self.link.key(&format!("rt:seq:{channel}")))
                    .cmd("ZRANGE")
                    .arg(&log)
                    .arg(0)
                    .arg(0)
                    .query_async(&mut conn),
            )
            .await?;
        let cutoff = now_ms().saturating_sub(self.retain_ms);
        let events: Vec<Event> = entries
            .iter()
            .filter_map(|e| parse_entry(channel, e))
            .filter(|e| e.published_at >= cutoff)
            .collect();
        let oldest = first
            .first()
            .and_then(|e| parse_entry(channel, e))
            .map(|e| e.seq)
            .unwrap_or(0);
        Ok(Batch {
            events,
            latest: latest.unwrap_or(0),
            oldest,
        })
    }
}

#[async_trait::async_trait]
impl RealtimeBackend for RedisRealtime {
    async fn status(&self) -> BackendStatus {
        let mut status = self.link.status("pub/sub across hosts");
        if status.healthy && !self.subscribed.load(Ordering::SeqCst) {
            status.healthy = false;
            status.detail = format!("{}: subscription not active yet", self.link.location());
        }
        status
    }

    async fn publish(&self, channel: &str, payload: &str) -> CapResult<u64> {
        match self.publish_shared(channel, payload).await {
            Ok(seq) => Ok(seq),
            Err(CapabilityError::Unavailable(_)) => self.fallback.publish(channel, payload).await,
            Err(e) => Err(e),
        }
    }

    async fn poll(&self, channel: &str, since: u64, limit: u32) -> CapResult<Batch> {
        match self.poll_shared(channel, since, limit).await {
            Ok(batch) => Ok(batch),
            Err(CapabilityError::Unavailable(_)) => self.fallback.poll(channel, since, limit).await,
            Err(e) => Err(e),
        }
    }

    fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.live.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_keep_spaces_in_payloads() {
        let e = parse_entry("c", r#"7 1700000000000 {"a": "b c"}"#).unwrap();
        assert_eq!((e.seq, e.published_at), (7, 1_700_000_000_000));
        assert_eq!(e.payload, r#"{"a": "b c"}"#);
        assert!(parse_entry("c", "x 1 {}").is_none());
    }
}
