//! `GET /api/events/stream?channel=NAME[&since=SEQ]` on hosts without host-served push (Spin):
//! one channel as Server-Sent Events, streamed by the component itself.
//!
//! Spin keeps no connection open for the app between requests, so each stream lasts a
//! bounded time (the host's `sse-stream-seconds` fact, 25 s by default) and then ends; the
//! browser's EventSource reconnects after `retry` with `Last-Event-ID`, and the stream
//! resumes from the retained log, each event once and in order. The wire format is the
//! native host's: `retry:`, then `id: <seq>` and `data:` lines per event.
//! On the native host the host answers this path itself and the component never sees it.

use crate::bindings::{capabilities, realtime};
use crate::http_io::Request;
use marcus_core::api_error::ApiError;
use marcus_core::event_stream::{
    KEEPALIVE_FRAME, RETRY_FRAME, StreamRequest, event_frame, parse_request,
};
use wasip2::clocks::monotonic_clock;
use wasip2::http::types::ResponseOutparam;

/// Stream length when the host does not say.
const DEFAULT_STREAM_SECONDS: u64 = 25;
/// Pause between polls of the log while nothing is new.
const POLL_INTERVAL_MS: u64 = 500;
/// A comment line at least this often keeps proxies from closing an idle stream.
const KEEPALIVE_MS: u64 = 15_000;
/// Events read per poll.
const BATCH: u32 = 100;

/// A validated stream request, ready to be served.
pub struct EventStream {
    channel: String,
    since: Option<u64>,
    seconds: u64,
}

/// The stream for `req` when it asks for one and this host wants the component to serve
/// it (a healthy `push` backend named `sse` on a Spin host); `None` leaves the request to
/// the router.
pub fn accept(req: &Request) -> Option<Result<EventStream, ApiError>> {
    if req.path.trim_end_matches('/') != "/api/events/stream" {
        return None;
    }
    if let Err(refused) = crate::caller::require(marcus_identity::access::Access::Read, None) {
        return Some(Err(refused));
    }
    let report = capabilities::describe();
    if !matches!(report.host, capabilities::HostKind::Spin) {
        return None;
    }
    let offered = report
        .backends
        .iter()
        .any(|b| b.capability == "push" && b.healthy && b.name.split('+').any(|t| t == "sse"));
    if !offered {
        return Some(Err(ApiError::new(
            503,
            "unavailable",
            "server-sent events need the realtime log, which is unavailable right now; poll /api/realtime instead",
        )));
    }
    let seconds =
        crate::sse_response::stream_seconds(&report.environment.facts, DEFAULT_STREAM_SECONDS);
    Some(parse(req, seconds))
}

fn parse(req: &Request, seconds: u64) -> Result<EventStream, ApiError> {
    if req.method != "GET" {
        return Err(crate::allowed_methods::method_not_allowed(
            &req.method,
            &["GET"],
        ));
    }
    let StreamRequest { channel, since } =
        parse_request(&req.query, req.header("last-event-id")).map_err(ApiError::bad_request)?;
    Ok(EventStream {
        channel,
        since,
        seconds,
    })
}

fn now_ms() -> u64 {
    monotonic_clock::now() / 1_000_000
}

fn sleep_ms(ms: u64) {
    monotonic_clock::subscribe_duration(ms * 1_000_000).block();
}

impl EventStream {
    /// Streams until the time is up or the client leaves, then ends the response.
    pub fn send(self, out: ResponseOutparam) {
        crate::sse_response::stream(out, |send| self.run(send));
    }

    /// The stream's loop over a sink that reports whether the client still listens.
    fn run(&self, send: &mut dyn FnMut(&str) -> bool) {
        let deadline = now_ms() + self.seconds * 1000;
        if !send(RETRY_FRAME) {
            return;
        }
        let mut last = match self.since {
            Some(n) => n,
            None => realtime::poll(&self.channel, u64::MAX, 1)
                .map(|b| b.latest)
                .unwrap_or(0),
        };
        let mut last_write = now_ms();
        while now_ms() < deadline {
            let batch = match realtime::poll(&self.channel, last, BATCH) {
                Ok(batch) => batch,
                Err(_) => {
                    sleep_ms(POLL_INTERVAL_MS);
                    continue;
                }
            };
            for event in &batch.events {
                if !send(&event_frame(event.seq, &event.payload)) {
                    return;
                }
                last = event.seq;
                last_write = now_ms();
            }
            if batch.events.len() == BATCH as usize {
                continue;
            }
            if now_ms() - last_write >= KEEPALIVE_MS {
                if !send(KEEPALIVE_FRAME) {
                    return;
                }
                last_write = now_ms();
            }
            let left = deadline.saturating_sub(now_ms());
            sleep_ms(POLL_INTERVAL_MS.min(left.max(1)));
        }
    }
}
