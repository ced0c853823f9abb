//! Closed-loop HTTP/1.1 load generator: each keep-alive connection sends its next request as
//! soon as the previous response is fully read, so one run yields both throughput and the
//! latency of every request in the measured window.

use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::SendRequest;
use hyper::{Request, StatusCode, header};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::Instant;

/// One load run against one server: where, what and for how long.
#[derive(Debug, Clone)]
pub struct LoadSpec {
    pub addr: SocketAddr,
    pub path: String,
    pub connections: usize,
    pub warmup: Duration,
    pub measure: Duration,
}

/// What one run measured. Only requests that completed inside the measured window count.
#[derive(Debug, Clone)]
pub struct LoadResult {
    /// Successful (200) responses in the window.
    pub requests: u64,
    /// Non-200 responses and connection failures in the window.
    pub errors: u64,
    /// The length of the measured window.
    pub window: Duration,
    /// Latency of every successful request in the window, in nanoseconds, sorted.
    latencies_ns: Vec<u64>,
}

impl LoadResult {
    /// Successful requests per second over the measured window.
    pub fn requests_per_sec(&self) -> f64 {
        self.requests as f64 / self.window.as_secs_f64()
    }

    /// The latency at percentile `p` (0–100), nearest-rank; zero when nothing was measured.
    pub fn percentile(&self, p: f64) -> Duration {
        if self.latencies_ns.is_empty() {
            return Duration::ZERO;
        }
        let n = self.latencies_ns.len();
        let rank = ((p / 100.0) * n as f64).ceil() as usize;
        Duration::from_nanos(self.latencies_ns[rank.clamp(1, n) - 1])
    }
}

/// Per-connection tallies, merged after the run.
#[derive(Default)]
struct ConnectionTally {
    latencies_ns: Vec<u64>,
    errors: u64,
}

/// Runs `spec.connections` connections through the warm-up and the measured window.
pub async fn run(spec: &LoadSpec) -> anyhow::Result<LoadResult> {
    let measure_start = Instant::now() + spec.warmup;
    let end = measure_start + spec.measure;
    let mut tasks = Vec::with_capacity(spec.connections);
    for _ in 0..spec.connections {
        let spec = spec.clone();
        tasks.push(tokio::spawn(async move {
            drive_connection(&spec, measure_start, end).await
        }));
    }
    let mut latencies_ns = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let tally = task.await.context("load task panicked")?;
        latencies_ns.extend(tally.latencies_ns);
        errors += tally.errors;
    }
    latencies_ns.sort_unstable();
    Ok(LoadResult {
        requests: latencies_ns.len() as u64,
        errors,
        window: spec.measure,
        latencies_ns,
    })
}

/// One connection's loop: request, read the whole body, record, repeat; reconnects after a
/// failure. A request still in flight at the end of the window is abandoned, uncounted.
async fn drive_connection(
    spec: &LoadSpec,
    measure_start: Instant,
    end: Instant,
) -> ConnectionTally {
    let mut tally = ConnectionTally {
        latencies_ns: Vec::with_capacity(1 << 16),
        errors: 0,
    };
    let host = spec.addr.to_string();
    let mut sender: Option<SendRequest<Empty<Bytes>>> = None;
    while Instant::now() < end {
        let started = Instant::now();
        let outcome = tokio::time::timeout_at(end, async {
            if sender.is_none() {
                sender = Some(connect(spec.addr).await?);
            }
            let conn = sender.as_mut().expect("connected above");
            conn.ready().await?;
            let request = Request::get(spec.path.as_str())
                .header(header::HOST, host.as_str())
                .body(Empty::new())?;
            let response = conn.send_request(request).await?;
            let status = response.status();
            response.into_body().collect().await?;
            anyhow::Ok(status)
        })
        .await;
        let finished = Instant::now();
        let in_window = finished >= measure_start;
        match outcome {
            Err(_elapsed) => break,
            Ok(Ok(StatusCode::OK)) => {
                if in_window {
                    tally
                        .latencies_ns
                        .push((finished - started).as_nanos() as u64);
                }
            }
            Ok(Ok(_other_status)) => {
                if in_window {
                    tally.errors += 1;
                }
            }
            Ok(Err(_io)) => {
                if in_window {
                    tally.errors += 1;
                }
                sender = None;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    }
    tally
}

/// Opens a keep-alive HTTP/1.1 connection with Nagle off, as a browser or agent would.
async fn connect(addr: SocketAddr) -> anyhow::Result<SendRequest<Empty<Bytes>>> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    Ok(sender)
}
