//! `GET /api/ws`: WebSocket push with per-channel subscriptions.
//!
//! Client messages (JSON text frames):
//! `{"type": "subscribe", "channel": "project:p1", "since": 12}` (`since` optional: replay the
//! retained log after it), `{"type": "unsubscribe", "channel": "..."}`, `{"type": "ping"}`.
//! Server messages: `{"type": "subscribed", "channel", "latest"}`, `{"type": "unsubscribed",
//! "channel"}`, `{"type": "event", "channel", "seq", "payload", "published_at"}`,
//! `{"type": "pong"}` and `{"type": "error", "message"}`. A client that stops reading is
//! disconnected after a send timeout; it never slows anyone else down.

use super::{CATCH_UP_BATCH, KEEPALIVE, check_channel};
use crate::json_error;
use crate::realtime::{Event, RealtimeBackend};
use futures::{SinkExt, StreamExt};
use hyper_util::rt::TokioIo;
use marcus_identity::tenant::{scoped, unscoped};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, watch};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// How long one send may wait on a client that does not read.
const SEND_TIMEOUT: Duration = Duration::from_secs(5);
/// Channels one connection may follow.
const MAX_SUBSCRIPTIONS: usize = 64;
/// Largest client message accepted.
const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// Accepts the upgrade and runs the connection in its own task.
pub fn serve(
    mut req: hyper::Request<hyper::body::Incoming>,
    realtime: Arc<dyn RealtimeBackend>,
    tenant: String,
    shutdown: watch::Receiver<bool>,
) -> hyper::Response<HyperOutgoingBody> {
    let upgrade = req
        .headers()
        .get(hyper::header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let Some(key) = req.headers().get("sec-websocket-key").cloned() else {
        return json_error::response(
            400,
            "bad_request",
            "/api/ws expects a WebSocket upgrade (Upgrade: websocket, Sec-WebSocket-Key)",
        );
    };
    if !upgrade || req.method() != hyper::Method::GET {
        return json_error::response(
            400,
            "bad_request",
            "/api/ws expects a WebSocket upgrade (GET with Upgrade: websocket)",
        );
    }
    let accept = derive_accept_key(key.as_bytes());
    let on_upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => {
                let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
                    .max_message_size(Some(MAX_MESSAGE_BYTES))
                    .max_frame_size(Some(MAX_MESSAGE_BYTES));
                let ws = WebSocketStream::from_raw_socket(
                    TokioIo::new(upgraded),
                    Role::Server,
                    Some(config),
                )
                .await;
                run(ws, realtime, &tenant, shutdown).await;
            }
            Err(e) => tracing::debug!("websocket upgrade failed: {e}"),
        }
    });
    hyper::Response::builder()
        .status(101)
        .header(hyper::header::CONNECTION, "upgrade")
        .header(hyper::header::UPGRADE, "websocket")
        .header("sec-websocket-accept", accept)
        .body(crate::json_error::empty_body())
        .expect("static response parts are valid")
}

/// The client's message for `event`, under the tenant's own channel name.
fn event_message(tenant: &str, event: &Event) -> Message {
    let payload: Value =
        serde_json::from_str(&event.payload).unwrap_or(Value::String(event.payload.clone()));
    Message::text(
        json!({
            "type": "event",
            "channel": unscoped(tenant, &event.channel).unwrap_or_default(),
            "seq": event.seq,
            "payload": payload,
            "published_at": event.published_at,
        })
        .to_string(),
    )
}

type Socket = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

async fn send(ws: &mut Socket, message: Message) -> Result<(), ()> {
    match tokio::time::timeout(SEND_TIMEOUT, ws.send(message)).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(()),
    }
}

/// Sends the log of `channel` after `last`; returns the new position.
async fn catch_up(
    ws: &mut Socket,
    realtime: &dyn RealtimeBackend,
    tenant: &str,
    channel: &str,
    mut last: u64,
) -> Result<u64, ()> {
    loop {
        let Ok(batch) = realtime.poll(channel, last, CATCH_UP_BATCH).await else {
            return Ok(last);
        };
        for event in &batch.events {
            send(ws, event_message(tenant, event)).await?;
            last = event.seq;
        }
        if batch.events.len() < CATCH_UP_BATCH as usize {
            return Ok(last);
        }
    }
}

fn error(message: &str) -> Message {
    Message::text(json!({"type": "error", "message": message}).to_string())
}

async fn run(
    mut ws: Socket,
    realtime: Arc<dyn RealtimeBackend>,
    tenant: &str,
    mut shutdown: watch::Receiver<bool>,
) {
    let _open = super::SubscriberGauge::open("websocket");
    let mut live: broadcast::Receiver<Event> = realtime.subscribe();
    // Channel → last sequence number sent.
    let mut subscriptions: HashMap<String, u64> = HashMap::new();
    let mut keepalive = tokio::time::interval(KEEPALIVE);
    keepalive.tick().await;
    loop {
        let outcome: Result<(), ()> = tokio::select! {
            incoming = ws.next() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    handle_client_message(&mut ws, &*realtime, &mut subscriptions, tenant, text.as_str()).await
                }
                Some(Ok(Message::Binary(_))) => send(&mut ws, error("send JSON text messages")).await,
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => Err(()),
                Some(Ok(_)) => Ok(()),
            },
            received = live.recv() => match received {
                Ok(event) => match subscriptions.get(&event.channel).copied() {
                    Some(last) if event.seq > last => {
                        let mut last = last;
                        let mut result = Ok(());
                        if event.seq > last + 1 && last > 0 {
                            result = catch_up(&mut ws, &*realtime, tenant, &event.channel, last).await.map(|l| last = l);
                        }
                        if result.is_ok() && event.seq > last {
                            result = send(&mut ws, event_message(tenant, &event)).await;
                            last = event.seq;
                        }
                        subscriptions.insert(event.channel.clone(), last);
                        result
                    }
                    _ => Ok(()),
                },
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    let mut result = Ok(());
                    let channels: Vec<(String, u64)> = subscriptions.iter().map(|(c, l)| (c.clone(), *l)).collect();
                    for (channel, last) in channels {
                        match catch_up(&mut ws, &*realtime, tenant, &channel, last).await {
                            Ok(l) => { subscriptions.insert(channel, l); }
                            Err(()) => { result = Err(()); break; }
                        }
                    }
                    result
                }
                Err(broadcast::error::RecvError::Closed) => Err(()),
            },
            _ = keepalive.tick() => send(&mut ws, Message::Ping(Vec::new().into())).await,
            _ = shutdown.changed() => {
                let _ = ws.close(None).await;
                Err(())
            }
        };
        if outcome.is_err() {
            return;
        }
    }
}

async fn handle_client_message(
    ws: &mut Socket,
    realtime: &dyn RealtimeBackend,
    subscriptions: &mut HashMap<String, u64>,
    tenant: &str,
    text: &str,
) -> Result<(), ()> {
    let Ok(message) = serde_json::from_str::<Value>(text) else {
        return send(ws, error("messages must be JSON objects with a type")).await;
    };
    let own = message["channel"].as_str().unwrap_or("");
    // The connection's tenant's channel of that name; subscriptions keep the full name.
    let full = scoped(tenant, own);
    let channel = full.as_str();
    match message["type"].as_str().unwrap_or("") {
        "ping" => send(ws, Message::text(json!({"type": "pong"}).to_string())).await,
        "subscribe" => {
            if let Err(e) = check_channel(own) {
                return send(ws, error(&e)).await;
            }
            if !subscriptions.contains_key(channel) && subscriptions.len() >= MAX_SUBSCRIPTIONS {
                return send(
                    ws,
                    error(&format!(
                        "at most {MAX_SUBSCRIPTIONS} channels per connection"
                    )),
                )
                .await;
            }
            let latest = realtime
                .poll(channel, u64::MAX, 1)
                .await
                .map(|b| b.latest)
                .unwrap_or(0);
            send(
                ws,
                Message::text(
                    json!({"type": "subscribed", "channel": own, "latest": latest}).to_string(),
                ),
            )
            .await?;
            let last = match message["since"].as_u64() {
                Some(since) => catch_up(ws, realtime, tenant, channel, since).await?,
                None => latest,
            };
            subscriptions.insert(channel.to_string(), last);
            Ok(())
        }
        "unsubscribe" => {
            subscriptions.remove(channel);
            send(
                ws,
                Message::text(json!({"type": "unsubscribed", "channel": own}).to_string()),
            )
            .await
        }
        other => {
            send(
                ws,
                error(&format!(
                    "unknown message type {other:?}; use subscribe, unsubscribe or ping"
                )),
            )
            .await
        }
    }
}
