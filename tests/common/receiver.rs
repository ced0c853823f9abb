//! A webhook receiver on loopback: a small HTTP/1.1 server that records every request and
//! answers each path with the status its script says (so tests can make a receiver fail
//! twice, or always).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    /// Request path.
    pub path: String,
    /// Headers, names in lower case.
    pub headers: HashMap<String, String>,
    /// The body.
    pub body: Vec<u8>,
    /// When it arrived.
    pub at: Instant,
    /// The status it was answered with.
    pub answered: u16,
}

impl Received {
    /// A header's value.
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map(String::as_str).unwrap_or("")
    }
}

#[derive(Default)]
struct State {
    /// Per path: statuses to answer in order; the last one repeats.
    scripts: HashMap<String, Vec<u16>>,
    got: Vec<Received>,
}

/// The running receiver; it stops with the test process.
#[derive(Clone)]
pub struct Receiver {
    /// `http://127.0.0.1:port`.
    pub base: String,
    state: Arc<Mutex<State>>,
}

impl Receiver {
    /// Starts on a free loopback port.
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let shared = shared.clone();
                std::thread::spawn(move || serve(stream, &shared));
            }
        });
        Self { base, state }
    }

    /// Makes `path` answer with `statuses` in turn (the last repeats).
    pub fn script(&self, path: &str, statuses: &[u16]) {
        self.state
            .lock()
            .unwrap()
            .scripts
            .insert(path.to_string(), statuses.to_vec());
    }

    /// Every request to `path` so far.
    pub fn got(&self, path: &str) -> Vec<Received> {
        self.state
            .lock()
            .unwrap()
            .got
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }

    /// Every request so far.
    pub fn all(&self) -> Vec<Received> {
        self.state.lock().unwrap().got.clone()
    }
}

fn serve(stream: TcpStream, state: &Mutex<State>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
        let mut headers = HashMap::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
        let len: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let status = {
            let mut s = state.lock().unwrap();
            let seen = s.got.iter().filter(|r| r.path == path).count();
            let status = s
                .scripts
                .get(&path)
                .map(|script| script[seen.min(script.len() - 1)])
                .unwrap_or(200);
            s.got.push(Received {
                path: path.clone(),
                headers,
                body,
                at: Instant::now(),
                answered: status,
            });
            status
        };
        // 204 and 304 carry no body.
        let reply = if matches!(status, 204 | 304) {
            format!("HTTP/1.1 {status} X\r\n\r\n")
        } else {
            format!("HTTP/1.1 {status} X\r\ncontent-length: 2\r\n\r\nok")
        };
        if writer.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}
