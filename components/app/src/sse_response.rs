//! A response the component streams itself as Server-Sent Events (the event stream on Spin,
//! the MCP notification stream): the headers, the body writes and the end, in one place.

use std::io::Write as _;
use wasip2::http::types::{Fields, OutgoingBody, OutgoingResponse, ResponseOutparam};

/// The host fact that bounds how long one stream lasts, in seconds.
const STREAM_SECONDS_FACT: &str = "sse-stream-seconds";

/// How long one stream may last: the host's `sse-stream-seconds` fact among `facts`, else
/// `default`.
pub fn stream_seconds(facts: &[(String, String)], default: u64) -> u64 {
    facts
        .iter()
        .find(|(k, _)| k == STREAM_SECONDS_FACT)
        .and_then(|(_, v)| v.parse::<u64>().ok())
        .filter(|s| *s > 0)
        .unwrap_or(default)
}

/// Answers `out` with an event stream and hands `run` a sink for its frames, which reports
/// whether the client still listens; ends the response when `run` returns.
pub fn stream(out: ResponseOutparam, run: impl FnOnce(&mut dyn FnMut(&str) -> bool)) {
    let headers = Fields::from_list(&[
        ("content-type".to_string(), b"text/event-stream".to_vec()),
        ("cache-control".to_string(), b"no-cache".to_vec()),
        ("x-accel-buffering".to_string(), b"no".to_vec()),
    ])
    .unwrap_or_else(|_| Fields::new());
    let response = OutgoingResponse::new(headers);
    let Ok(body) = response.body() else {
        return;
    };
    ResponseOutparam::set(out, Ok(response));
    if let Ok(mut sink) = body.write() {
        let mut send = |text: &str| sink.write_all(text.as_bytes()).is_ok() && sink.flush().is_ok();
        run(&mut send);
    }
    let _ = OutgoingBody::finish(body, None);
}
