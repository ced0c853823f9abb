//! `marcus mcp`: MCP over stdio for clients that only launch commands, relayed to a running
//! server's streamable-HTTP endpoint. Each line on stdin is one JSON-RPC message, posted to
//! `{url}/mcp` with the session the server gave at `initialize`; each JSON-RPC answer
//! becomes one line on stdout. The tools are the server's own, since this only relays.
//!
//! stdout carries the protocol alone: diagnostics go to stderr. A request the server could
//! not answer (unreachable, or refused without a JSON-RPC body: 401, 5xx) gets a JSON-RPC
//! error with its id and the reason, so the client is never left waiting; a line that is not
//! JSON gets a parse error. The session's notifications (`GET /mcp`) are written as lines
//! too, as they come. At the end of stdin the session is ended on the server.

pub mod jsonrpc;
pub mod notifications;
pub mod sse;

use crate::cli::McpArgs;
use crate::server_client::{ExchangeError, Reply, ServerClient};
use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE, HeaderName, HeaderValue};
use serde_json::json;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

/// The endpoint under the server's URL.
pub const MCP_PATH: &str = "/mcp";
/// How long one message's exchange may take (a tool call included).
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(120);
/// How long ending the session at exit may take.
const END_TIMEOUT: Duration = Duration::from_secs(3);

/// Relays stdin to the server until stdin ends, then ends the session.
pub async fn run(args: McpArgs) -> anyhow::Result<()> {
    let client = ServerClient::new(&args.server.url, args.server.token.clone())?
        .with_timeout(EXCHANGE_TIMEOUT);
    tracing::info!(url = %client.url(), "relaying MCP between stdio and {}{MCP_PATH}", client.url());
    // One writer owns stdout, so answers and notifications never interleave within a line.
    let (out, mut lines) = unbounded_channel::<String>();
    let writer = tokio::spawn(async move {
        let mut stdout = tokio::io::stdout();
        while let Some(line) = lines.recv().await {
            stdout.write_all(line.as_bytes()).await?;
            stdout.write_all(b"\n").await?;
            stdout.flush().await?;
        }
        Ok::<(), std::io::Error>(())
    });
    let mut bridge = Bridge::new(client, out.clone());
    let mut stdin = BufReader::new(tokio::io::stdin());
    let mut line = Vec::new();
    loop {
        line.clear();
        if stdin.read_until(b'\n', &mut line).await? == 0 {
            break;
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        for answer in bridge.relay(&line).await {
            if out.send(answer).is_err() {
                break;
            }
        }
    }
    bridge.end_session().await;
    drop(bridge);
    drop(out);
    writer.await??;
    Ok(())
}

/// The relay's state: the server, the session it gave and the session's notifications.
pub struct Bridge {
    client: ServerClient,
    session: Option<HeaderValue>,
    protocol: Option<HeaderValue>,
    out: UnboundedSender<String>,
    notifications: Option<tokio::task::JoinHandle<()>>,
}

impl Bridge {
    /// A bridge to the server `client` talks to, before `initialize`; notifications go to
    /// `out`.
    pub fn new(client: ServerClient, out: UnboundedSender<String>) -> Self {
        Self {
            client,
            session: None,
            protocol: None,
            out,
            notifications: None,
        }
    }

    /// Posts one message from the client and returns the lines to write back.
    pub async fn relay(&mut self, line: &[u8]) -> Vec<String> {
        let outgoing = match jsonrpc::read(line) {
            Ok(o) => o,
            Err(why) => {
                tracing::warn!("a line on stdin is not JSON: {why}");
                return vec![jsonrpc::error(
                    None,
                    jsonrpc::PARSE_ERROR,
                    &format!("Parse error: {why}"),
                    None,
                )];
            }
        };
        let mut headers = vec![
            (
                ACCEPT,
                HeaderValue::from_static("application/json, text/event-stream"),
            ),
            (CONTENT_TYPE, HeaderValue::from_static("application/json")),
        ];
        if !outgoing.is_initialize {
            if let Some(session) = &self.session {
                headers.push((HeaderName::from_static("mcp-session-id"), session.clone()));
            }
            if let Some(protocol) = &self.protocol {
                headers.push((
                    HeaderName::from_static("mcp-protocol-version"),
                    protocol.clone(),
                ));
            }
        }
        let sent = self
            .client
            .send(
                http::Method::POST,
                MCP_PATH,
                &headers,
                Bytes::copy_from_slice(line),
            )
            .await;
        let reply = match sent {
            Ok(reply) => reply,
            Err(e) => {
                tracing::error!("{e}");
                let why = match &e {
                    ExchangeError::Unreachable(_) => format!("{e}; is `marcus serve` running?"),
                    ExchangeError::Failed(_) => e.to_string(),
                };
                return self.errors_for(&outgoing, &why, None);
            }
        };
        if outgoing.is_initialize && reply.status == 200 {
            self.remember_session(&reply);
        }
        self.answers(&outgoing, &reply)
    }

    /// Keeps the session id and protocol an `initialize` answer gave, and follows the new
    /// session's notifications.
    fn remember_session(&mut self, reply: &Reply) {
        let Some(session) = reply.headers.get("mcp-session-id") else {
            return;
        };
        self.session = Some(session.clone());
        self.protocol =
            jsonrpc::negotiated_protocol(&reply.body).and_then(|p| HeaderValue::from_str(&p).ok());
        if let Some(previous) = self.notifications.take() {
            previous.abort();
        }
        self.notifications = Some(tokio::spawn(notifications::follow(
            self.client.clone(),
            session.clone(),
            self.protocol.clone(),
            self.out.clone(),
        )));
    }

    /// The lines a server's answer becomes.
    fn answers(&self, outgoing: &jsonrpc::Outgoing, reply: &Reply) -> Vec<String> {
        if reply.status == 202 {
            return Vec::new();
        }
        if reply.content_type() == "text/event-stream" {
            return sse::event_data(&reply.body)
                .iter()
                .map(|m| jsonrpc::one_line(m))
                .collect();
        }
        if jsonrpc::is_jsonrpc(&reply.body) {
            return vec![jsonrpc::one_line(&String::from_utf8_lossy(&reply.body))];
        }
        let why = format!(
            "Marcus at {} refused the message: {}",
            self.client.url(),
            reply.refusal()
        );
        tracing::error!("{why}");
        self.errors_for(outgoing, &why, Some(reply.status))
    }

    /// One JSON-RPC error per request in `outgoing` (none for notifications).
    fn errors_for(
        &self,
        outgoing: &jsonrpc::Outgoing,
        why: &str,
        status: Option<u16>,
    ) -> Vec<String> {
        let data = status.map(|s| json!({"http_status": s}));
        outgoing
            .request_ids
            .iter()
            .map(|id| jsonrpc::error(Some(id), jsonrpc::SERVER_UNAVAILABLE, why, data.clone()))
            .collect()
    }

    /// Ends the session on the server, if there is one (best effort: a server that went
    /// away has nothing to end).
    pub async fn end_session(&mut self) {
        if let Some(notifications) = self.notifications.take() {
            notifications.abort();
        }
        let Some(session) = self.session.take() else {
            return;
        };
        let client = self.client.clone().with_timeout(END_TIMEOUT);
        let headers = [(HeaderName::from_static("mcp-session-id"), session)];
        match client
            .send(http::Method::DELETE, MCP_PATH, &headers, Bytes::new())
            .await
        {
            Ok(reply) if reply.status < 300 => tracing::debug!("MCP session ended"),
            Ok(reply) => tracing::debug!("ending the MCP session: {}", reply.refusal()),
            Err(e) => tracing::debug!("ending the MCP session: {e}"),
        }
    }
}
