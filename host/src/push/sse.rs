//! `GET /api/events/stream?channel=NAME[&since=SEQ]`: one channel as Server-Sent Events.
//!
//! Each message is `id: <seq>` plus `data:` lines holding the event's JSON payload. A client
//! that reconnects sends `Last-Event-ID` (browsers' EventSource does so by itself) and first
//! receives what it missed from the retained log, then live events, each once and in order.
//! Without either, the stream starts at the channel's current end.

use super::{CATCH_UP_BATCH, KEEPALIVE, bad_request};
use crate::realtime::{Event, RealtimeBackend};
use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use marcus_core::event_stream::{
    KEEPALIVE_FRAME, RETRY_FRAME, StreamRequest, event_frame, parse_request,
};
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc, watch};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// Frames buffered per client before its task waits for the socket.
const CLIENT_BUFFER: usize = 64;

/// Answers one SSE request; the stream runs until the client leaves or the host stops.
pub fn serve(
    req: &hyper::Request<hyper::body::Incoming>,
    realtime: Arc<dyn RealtimeBackend>,
    tenant: &str,
    shutdown: watch::Receiver<bool>,
) -> hyper::Response<HyperOutgoingBody> {
    if req.method() != hyper::Method::GET {
        return crate::json_error::method_not_allowed(super::SSE_PATH, "GET");
    }
    let query: Vec<(String, String)> =
        form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let last_event_id = req
        .headers()
        .get("last-event-id")
        .map(|v| v.to_str().unwrap_or(""));
    let StreamRequest { channel, since } = match parse_request(&query, last_event_id) {
        Ok(r) => r,
        Err(message) => return bad_request(&message),
    };
    // The request's tenant's channel of that name, and no other tenant's.
    let channel = marcus_identity::tenant::scoped(tenant, &channel);

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

/// One SSE message for `event`, in the shared wire format.
pub fn format_event(event: &Event) -> Bytes {
    Bytes::from(event_frame(event.seq, &event.payload))
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
        .send(Bytes::from_static(RETRY_FRAME.as_bytes()))
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
                if tx.send(Bytes::from_static(KEEPALIVE_FRAME.as_bytes())).await.is_err() {
                    return;
                }
            }
            _ = shutdown.changed() => return,
        }
    }
}
