//! `GET /api/events/stream?channel=NAME[&since=SEQ]`: one channel as Server-Sent Events.
//!
//! Each message is `id: <seq>` plus `data:` lines holding the event's JSON payload. A client
//! that reconnects sends `Last-Event-ID` (browsers' EventSource does so by itself) and first
//! receives what it missed from the retained log, then live events, each once and in order.
//! Without either, the stream starts at the channel's current end.

use super::{CATCH_UP_BATCH, KEEPALIVE, bad_request, check_channel};
use crate::realtime::{Event, RealtimeBackend};
use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc, watch};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// Frames buffered per client before its task waits for the socket.
const CLIENT_BUFFER: usize = 64;

/// Answers one SSE request; the stream runs until the client leaves or the host stops.
pub fn serve(
    req: &hyper::Request<hyper::body::Incoming>,
    realtime: Arc<dyn RealtimeBackend>,
    shutdown: watch::Receiver<bool>,
) -> hyper::Response<HyperOutgoingBody> {
    if req.method() != hyper::Method::GET {
        return crate::json_error::response(
            405,
            "method_not_allowed",
            "use GET for /api/events/stream",
        );
    }
    let mut channel = None;
    let mut since = None;
    for (k, v) in form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "channel" if channel.is_some() => {
                return bad_request("give one channel per stream");
            }
            "channel" => channel = Some(v.into_owned()),
            "since" => match v.parse::<u64>() {
                Ok(n) => since = Some(n),
                Err(_) => return bad_request("since must be a sequence number"),
            },
            _ => {}
        }
    }
    let Some(channel) = channel else {
        return bad_request("the channel query parameter is required, e.g. ?channel=agents");
    };
    if let Err(e) = check_channel(&channel) {
        return bad_request(&e);
    }
    if let Some(last) = req.headers().get("last-event-id") {
        match last
            .to_str()
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
        {
            Some(n) => since = Some(n),
            None => return bad_request("Last-Event-ID must be a sequence number"),
        }
    }

    let (tx, rx) = mpsc::channel::<Bytes>(CLIENT_BUFFER);
    // Subscribe before reading the log, so nothing published in between is missed.
    let live = realtime.subscribe();
    tokio::spawn(stream_events(channel, since, realtime, live, tx, shutdown));
    let frames = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|b| (Ok::<_, wasmtime_wasi_http::Error>(Frame::data(b)), rx))
    });
    hyper::Response::builder()
        .status(200)
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-cache")
        .header("x-accel-buffering", "no")
        .body(StreamBody::new(frames).boxed_unsync())
        .expect("static response parts are valid")
}

/// One SSE message for `event`; multi-line payloads become several `data:` lines.
pub fn format_event(event: &Event) -> Bytes {
    let mut out = format!("id: {}\n", event.seq);
    for line in event.payload.split('\n') {
        out.push_str("data: ");
        out.push_str(line.trim_end_matches('\r'));
        out.push('\n');
    }
    out.push('\n');
    Bytes::from(out)
}

/// Sends the log after `last` (up to the current end); returns the last seq sent.
async fn catch_up(
    realtime: &dyn RealtimeBackend,
    channel: &str,
    mut last: u64,
    tx: &mpsc::Sender<Bytes>,
) -> Result<u64, ()> {
    loop {
        let Ok(batch) = realtime.poll(channel, last, CATCH_UP_BATCH).await else {
            return Ok(last);
        };
        for event in &batch.events {
            tx.send(format_event(event)).await.map_err(|_| ())?;
            last = event.seq;
        }
        if batch.events.len() < CATCH_UP_BATCH as usize {
            return Ok(last);
        }
    }
}

async fn stream_events(
    channel: String,
    since: Option<u64>,
    realtime: Arc<dyn RealtimeBackend>,
    mut live: broadcast::Receiver<Event>,
    tx: mpsc::Sender<Bytes>,
    mut shutdown: watch::Receiver<bool>,
) {
    if tx
        .send(Bytes::from_static(b"retry: 2000\n\n"))
        .await
        .is_err()
    {
        return;
    }
    let mut last = match since {
        Some(n) => match catch_up(&*realtime, &channel, n, &tx).await {
            Ok(last) => last,
            Err(()) => return,
        },
        None => match realtime.poll(&channel, u64::MAX, 1).await {
            Ok(batch) => batch.latest,
            Err(_) => 0,
        },
    };
    let mut keepalive = tokio::time::interval(KEEPALIVE);
    keepalive.tick().await;
    loop {
        tokio::select! {
            received = live.recv() => match received {
                Ok(event) if event.channel == channel && event.seq > last => {
                    if event.seq > last + 1 && last > 0 {
                        // A gap (this host's subscription reconnected): fill it from the log.
                        match catch_up(&*realtime, &channel, last, &tx).await {
                            Ok(l) => last = l,
                            Err(()) => return,
                        }
                        if event.seq <= last {
                            continue;
                        }
                    }
                    if tx.send(format_event(&event)).await.is_err() {
                        return;
                    }
                    last = event.seq;
                }
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    match catch_up(&*realtime, &channel, last, &tx).await {
                        Ok(l) => last = l,
                        Err(()) => return,
                    }
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
            _ = keepalive.tick() => {
                if tx.send(Bytes::from_static(b": keep-alive\n\n")).await.is_err() {
                    return;
                }
            }
            _ = shutdown.changed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_lines_each_get_a_data_field() {
        let e = Event {
            channel: "c".into(),
            seq: 4,
            payload: "{\"a\":\n1}".into(),
            published_at: 0,
        };
        assert_eq!(&format_event(&e)[..], b"id: 4\ndata: {\"a\":\ndata: 1}\n\n");
    }
}
