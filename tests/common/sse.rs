//! A minimal Server-Sent Events reader for the suites: one HTTP/1.1 GET on a raw socket,
//! then `id:`/`data:` fields parsed as they arrive.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// One received event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `id:` field (the sequence number).
    pub id: u64,
    /// The joined `data:` lines.
    pub data: String,
}

/// An open event stream.
pub struct SseStream {
    reader: BufReader<TcpStream>,
    /// Status code of the response.
    pub status: u16,
    /// Content-Type of the response.
    pub content_type: String,
}

impl SseStream {
    /// Opens `path` on the server at `base` (`http://127.0.0.1:port`), optionally resuming
    /// after `last_event_id`.
    pub fn open(base: &str, path: &str, last_event_id: Option<u64>) -> Self {
        let resume = last_event_id.map(|id| id.to_string());
        let headers: Vec<(&str, &str)> = resume
            .as_deref()
            .map(|id| vec![("Last-Event-ID", id)])
            .unwrap_or_default();
        Self::open_with(base, path, &headers)
    }

    /// Opens `path` on the server at `base` with extra request headers.
    pub fn open_with(base: &str, path: &str, headers: &[(&str, &str)]) -> Self {
        let addr = base.trim_start_matches("http://");
        let mut stream = TcpStream::connect(addr).expect("connecting for SSE");
        let extra: String = headers
            .iter()
            .map(|(k, v)| format!("{k}: {v}\r\n"))
            .collect();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n{extra}\r\n"
        )
        .expect("sending the SSE request");
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .expect("read timeout");
        let mut reader = BufReader::new(stream);
        let mut status_line = String::new();
        reader.read_line(&mut status_line).expect("status line");
        let status = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let mut content_type = String::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).expect("header line");
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case("content-type")
            {
                content_type = v.trim().to_string();
            }
        }
        Self {
            reader,
            status,
            content_type,
        }
    }

    /// The next event, or `None` when none arrives within `within`. Chunked-encoding size
    /// lines, comments and `retry:` fields are skipped.
    pub fn next_event(&mut self, within: Duration) -> Option<SseEvent> {
        let deadline = Instant::now() + within;
        let mut id = None;
        let mut data: Vec<String> = Vec::new();
        while Instant::now() < deadline {
            let left = deadline.saturating_duration_since(Instant::now());
            let _ = self
                .reader
                .get_ref()
                .set_read_timeout(Some(left.max(Duration::from_millis(10))));
            let mut line = String::new();
            match self.reader.read_line(&mut line) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(_) => return None,
            }
            let line = line.trim_end_matches(['\r', '\n']);
            if let Some(v) = line.strip_prefix("id: ") {
                id = v.parse().ok();
            } else if let Some(v) = line.strip_prefix("data: ") {
                data.push(v.to_string());
            } else if line.is_empty() && id.is_some() {
                return Some(SseEvent {
                    id: id.unwrap_or(0),
                    data: data.join("\n"),
                });
            }
        }
        None
    }

    /// Collects `n` events (panics if they do not all arrive within `within`).
    pub fn take(&mut self, n: usize, within: Duration) -> Vec<SseEvent> {
        let deadline = Instant::now() + within;
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next_event(left) {
                Some(e) => out.push(e),
                None => panic!("got {} of {n} events: {out:?}", out.len()),
            }
        }
        out
    }
}
