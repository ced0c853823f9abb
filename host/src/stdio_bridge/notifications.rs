//! The session's notification stream: after `initialize` the bridge keeps `GET /mcp` open
//! (Server-Sent Events of JSON-RPC notifications: ready tasks, expiring leases, resolved
//! blockers) and writes each notification as a line, as a stdio server sends them unasked.
//! The server ends each stream after a while; the next one resumes from the last event id,
//! so nothing is missed between them.

use super::{MCP_PATH, jsonrpc, sse};
use crate::server_client::ServerClient;
use http::header::{ACCEPT, HeaderName, HeaderValue};
use http_body_util::BodyExt as _;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedSender;

/// How long to wait before opening the stream again after a failure or a stream that
/// ended at once.
const RETRY_AFTER: Duration = Duration::from_secs(2);

/// Follows the notification stream of `session` and sends each notification to `out` until
/// the session ends, the server offers no stream, or `out` is closed.
pub async fn follow(
    client: ServerClient,
    session: HeaderValue,
    protocol: Option<HeaderValue>,
    out: UnboundedSender<String>,
) {
    let mut last_event_id: Option<HeaderValue> = None;
    loop {
        let mut headers = vec![
            (ACCEPT, HeaderValue::from_static("text/event-stream")),
            (HeaderName::from_static("mcp-session-id"), session.clone()),
        ];
        if let Some(protocol) = &protocol {
            headers.push((
                HeaderName::from_static("mcp-protocol-version"),
                protocol.clone(),
            ));
        }
        if let Some(id) = &last_event_id {
            headers.push((HeaderName::from_static("last-event-id"), id.clone()));
        }
        let opened = Instant::now();
        let response = match client.open_stream(MCP_PATH, &headers).await {
            Ok(response) => response,
            Err(e) => {
                tracing::debug!("opening the notification stream: {e}");
                tokio::time::sleep(RETRY_AFTER).await;
                continue;
            }
        };
        match response.status().as_u16() {
            200 => {}
            // No such stream on this server, or the session is gone: nothing to follow.
            status @ (400 | 404 | 405 | 406) => {
                tracing::debug!(status, "no notification stream for this session");
                return;
            }
            status => {
                tracing::debug!(status, "the notification stream was refused; retrying");
                tokio::time::sleep(RETRY_AFTER).await;
                continue;
            }
        }
        let mut reader = sse::EventReader::default();
        let mut body = response.into_body();
        while let Some(frame) = body.frame().await {
            let Ok(frame) = frame else { break };
            let Ok(bytes) = frame.into_data() else {
                continue;
            };
            for event in reader.push(&bytes) {
                if let Some(id) = event.id.and_then(|id| HeaderValue::from_str(&id).ok()) {
                    last_event_id = Some(id);
                }
                if let Some(data) = event.data.filter(|d| !d.trim().is_empty())
                    && out.send(jsonrpc::one_line(&data)).is_err()
                {
                    return;
                }
            }
        }
        if opened.elapsed() < Duration::from_secs(1) {
            tokio::time::sleep(RETRY_AFTER).await;
        }
    }
}
