//! The answer for a connection over the cap: its first request gets `503
//! too_many_connections` with `Retry-After`, then the connection is closed. Probes still get
//! the truth: `/healthz` is alive, `/readyz` is not ready (the connection check fails).
//!
//! The request head must arrive within [`REFUSAL_HEADER_TIMEOUT`]; a client that sends
//! nothing is closed then, so refusals never pile up.

use crate::connection_cap::Admitted;
use crate::health::{self, Health};
use crate::json_error;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;

/// How long a refused connection may take to send its request head.
pub const REFUSAL_HEADER_TIMEOUT: Duration = Duration::from_secs(1);

/// Answers one request on `stream` with the refusal (or a probe's answer) and closes it.
pub async fn refuse(stream: Admitted<TcpStream>, health: Arc<Health>) {
    metrics::counter!("marcus_connections_refused_total", "answer" => "503").increment(1);
    let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let health = health.clone();
        async move {
            let response = match req.uri().path() {
                "/healthz" if req.method() == hyper::Method::GET => health::liveness(),
                "/readyz" if req.method() == hyper::Method::GET => health.readiness().await,
                // The 503 carries the Retry-After every 503 carries.
                _ => json_error::response(
                    503,
                    "too_many_connections",
                    &format!(
                        "this server has {} connections open, its limit; retry shortly",
                        health.connections.limit()
                    ),
                ),
            };
            Ok::<_, std::convert::Infallible>(response)
        }
    });
    let served = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(REFUSAL_HEADER_TIMEOUT)
        .keep_alive(false)
        .serve_connection(TokioIo::new(stream), service);
    // A client that stops reading cannot hold the refusal place either.
    match tokio::time::timeout(REFUSAL_HEADER_TIMEOUT * 3, served).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::debug!("refused connection ended: {e}"),
        Err(_) => tracing::debug!("refused connection did not finish in time"),
    }
}
