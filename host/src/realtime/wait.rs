//! Waiting for a channel's next event: what lets an agent ask for work once and be answered
//! when a task becomes ready, instead of polling. The wait listens to the backend's live
//! feed (which carries every host's events in the team tier) and reads the retained log only
//! at the start and after a lagged feed, so it holds no storage connection while it waits.

use super::RealtimeBackend;
use crate::capability_error::CapResult;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// The latest sequence number of `channel` once it is past `since`, or when `timeout` has
/// passed (then whatever it is, usually `since`).
pub async fn next_event(
    realtime: &dyn RealtimeBackend,
    channel: &str,
    since: u64,
    timeout: Duration,
) -> CapResult<u64> {
    // Subscribed before the first look, so an event published in between is not missed.
    let mut live = realtime.subscribe();
    let latest = realtime.poll(channel, since, 1).await?.latest;
    if latest > since {
        return Ok(latest);
    }
    let until = tokio::time::Instant::now() + timeout;
    loop {
        match tokio::time::timeout_at(until, live.recv()).await {
            Err(_elapsed) => return Ok(latest),
            Ok(Ok(event)) if event.channel == channel && event.seq > since => {
                return Ok(event.seq);
            }
            Ok(Ok(_other)) => {}
            Ok(Err(RecvError::Lagged(_))) => {
                let latest = realtime.poll(channel, since, 1).await?.latest;
                if latest > since {
                    return Ok(latest);
                }
            }
            Ok(Err(RecvError::Closed)) => {
                tokio::time::sleep_until(until).await;
                return Ok(realtime.poll(channel, since, 1).await?.latest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::realtime::in_process::InProcessRealtime;
    use std::sync::Arc;

    #[tokio::test]
    async fn answers_at_once_when_the_channel_is_already_past() {
        let rt = InProcessRealtime::default();
        rt.publish("c", "1").await.unwrap();
        let seq = next_event(&rt, "c", 0, Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(seq, 1);
    }

    #[tokio::test]
    async fn wakes_on_the_channels_next_event_only() {
        let rt = Arc::new(InProcessRealtime::default());
        let publisher = rt.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            publisher.publish("other", "x").await.unwrap();
            tokio::time::sleep(Duration::from_millis(50)).await;
            publisher.publish("c", "y").await.unwrap();
        });
        let started = std::time::Instant::now();
        let seq = next_event(rt.as_ref(), "c", 0, Duration::from_secs(10))
            .await
            .unwrap();
        assert_eq!(seq, 1);
        assert!(started.elapsed() >= Duration::from_millis(90));
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn times_out_with_the_same_sequence() {
        let rt = InProcessRealtime::default();
        rt.publish("c", "1").await.unwrap();
        let seq = next_event(&rt, "c", 1, Duration::from_millis(50))
            .await
            .unwrap();
        assert_eq!(seq, 1);
    }
}
