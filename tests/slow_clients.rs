//! Slow and idle clients cannot stall the server: bodies are read before a request takes
//! an execution slot and under their own deadline (408), request heads have a deadline that
//! also closes idle keep-alive connections, connections over the cap get a 503 refusal, and
//! `/healthz` and `/readyz` tell the truth throughout. Real sockets against the real binary.

mod common;

use common::Marcus;
use serde_json::{Value, json};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// `host:port` of the server.
fn address(m: &Marcus) -> String {
    m.url.trim_start_matches("http://").to_string()
}

/// What a dripping client saw.
struct Dripped {
    /// Everything the server sent.
    answer: Vec<u8>,
    /// Whether the server closed the connection (EOF or reset) after answering.
    closed: bool,
}

impl Dripped {
    fn status(&self) -> u16 {
        let text = String::from_utf8_lossy(&self.answer);
        text.split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }

    fn json(&self) -> Value {
        let text = String::from_utf8_lossy(&self.answer);
        let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        serde_json::from_str(body).unwrap_or(Value::Null)
    }
}

/// Opens a connection, writes `head`, then one byte of `drip` every `every` until the
/// server answers and closes or `give_up` passes. `answered` is bumped at the first byte
/// of an answer.
fn drip(
    addr: &str,
    head: String,
    drip: Vec<u8>,
    every: Duration,
    give_up: Duration,
    answered: Arc<AtomicUsize>,
) -> JoinHandle<Dripped> {
    let addr = addr.to_string();
    std::thread::spawn(move || {
        let mut stream = TcpStream::connect(&addr).expect("connect");
        stream.set_read_timeout(Some(every)).unwrap();
        stream.write_all(head.as_bytes()).expect("head");
        let started = Instant::now();
        let mut answer = Vec::new();
        let mut next = drip.iter();
        let mut buf = [0u8; 4096];
        let mut closed = false;
        while started.elapsed() < give_up {
            if answer.is_empty()
                && let Some(byte) = next.next()
            {
                // Writes fail once the server has closed; the read below tells why.
                let _ = stream.write_all(std::slice::from_ref(byte));
            }
            match stream.read(&mut buf) {
                Ok(0) => {
                    closed = true;
                    break;
                }
                Ok(n) => {
                    if answer.is_empty() {
                        answered.fetch_add(1, Ordering::SeqCst);
                    }
                    answer.extend_from_slice(&buf[..n]);
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(_) => {
                    closed = true;
                    break;
                }
            }
        }
        Dripped { answer, closed }
    })
}

/// A request head with a body of `length` bytes still to come.
fn body_head(addr: &str, path: &str, length: usize) -> String {
    format!(
        "PUT {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    )
}

/// Creates a project over the JSON API and reads it back; returns how long both took.
fn create_and_read_project(m: &Marcus, name: &str) -> Duration {
    let started = Instant::now();
    let created = m.post_json(
        "/api/projects",
        &json!({"project_name": name, "tasks": [{"name": "First"}]}),
    );
    assert_eq!(created.status, 201, "{}", created.text_prefix());
    let id = created.json()["project_id"].as_str().unwrap().to_string();
    let read = m.get(&format!("/api/projects/{id}"));
    assert_eq!(read.status, 200, "{}", read.text_prefix());
    started.elapsed()
}

#[test]
fn slow_bodies_hold_no_slot_and_are_answered_408() {
    const SLOTS: usize = 4;
    const SLOW_CLIENTS: usize = 3 * SLOTS;
    let m = Marcus::start(&[
        "--max-concurrent",
        "4",
        "--body-timeout-ms",
        "8000",
        "--header-timeout-ms",
        "20000",
    ]);
    let addr = address(&m);
    let answered = Arc::new(AtomicUsize::new(0));
    let body = br#"{"slow": "a body sent one byte a second"}"#.to_vec();
    let slow: Vec<_> = (0..SLOW_CLIENTS)
        .map(|i| {
            drip(
                &addr,
                body_head(&addr, &format!("/api/storage/slow/c{i}"), body.len()),
                body.clone(),
                Duration::from_secs(1),
                Duration::from_secs(40),
                answered.clone(),
            )
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));

    // Three times as many slow bodies as slots, and the server still serves at once:
    // everything below finishes while every slow client is still waiting for its answer.
    assert_eq!(m.get("/healthz").json(), json!({"status": "ok"}));
    let ready = m.get("/readyz");
    assert_eq!(ready.status, 200, "{}", ready.text_prefix());
    assert_eq!(ready.json()["checks"]["slots"]["healthy"], true);
    for i in 0..3 {
        create_and_read_project(&m, &format!("Served while slow clients drip {i}"));
    }
    assert_eq!(
        answered.load(Ordering::SeqCst),
        0,
        "legitimate requests had to wait for the slow clients' deadline"
    );

    for client in slow {
        let seen = client.join().unwrap();
        assert_eq!(
            (seen.status(), seen.json()["error"]["code"].clone()),
            (408, json!("request_timeout")),
            "{}",
            String::from_utf8_lossy(&seen.answer)
        );
        assert!(seen.closed, "the connection stays open after the 408");
    }
    for i in 0..SLOW_CLIENTS {
        assert_eq!(m.get(&format!("/api/storage/slow/c{i}")).status, 404);
    }
    create_and_read_project(&m, "Served after the slow clients");
    let metrics = String::from_utf8(m.get("/metrics").body).unwrap();
    let timeouts = metrics
        .lines()
        .find_map(|l| l.strip_prefix("marcus_request_body_timeouts_total "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .unwrap_or(0.0);
    assert!(timeouts >= SLOW_CLIENTS as f64, "{timeouts}");
}

#[test]
fn a_complete_body_sent_in_pieces_reaches_the_app_whole() {
    let m = Marcus::start(&["--max-concurrent", "1", "--body-timeout-ms", "8000"]);
    let addr = address(&m);
    let body = br#"{"pieces": [1, 2, 3], "text": "sent in five writes"}"#.to_vec();
    let head = body_head(&addr, "/api/storage/pieces/one", body.len());
    let mut stream = TcpStream::connect(&addr).unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    for piece in body.chunks(body.len() / 5 + 1) {
        std::thread::sleep(Duration::from_millis(200));
        stream.write_all(piece).unwrap();
    }
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut answer = [0u8; 16];
    stream.read_exact(&mut answer).unwrap();
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    let stored = m.get("/api/storage/pieces/one").json();
    assert_eq!(
        stored["data"],
        serde_json::from_slice::<Value>(&body).unwrap()
    );
}

#[test]
fn idle_connections_over_the_cap_are_refused_until_their_idle_timeout() {
    const CAP: usize = 8;
    let m = Marcus::start(&["--max-connections", "8", "--header-timeout-ms", "6000"]);
    let addr = address(&m);
    let idle: Vec<TcpStream> = (0..CAP)
        .map(|_| TcpStream::connect(&addr).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(500));

    // Over the cap: a clear refusal, not a hang; the probes still answer truthfully.
    let refused = m.get("/api/projects");
    assert_eq!(
        refused.error(),
        (503, "too_many_connections".to_string()),
        "{}",
        refused.text_prefix()
    );
    assert_eq!(refused.header("retry-after").as_deref(), Some("2"));
    assert_eq!(m.get("/healthz").status, 200);
    let ready = m.get("/readyz");
    assert_eq!(ready.status, 503, "{}", ready.text_prefix());
    assert_eq!(ready.json()["checks"]["connections"]["healthy"], false);
    assert_eq!(ready.json()["checks"]["connections"]["limit"], CAP);

    // The idle connections are closed by the idle timeout...
    for mut stream in idle {
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let mut buf = [0u8; 256];
        match stream.read(&mut buf) {
            Ok(0) => {}
            Ok(n) => assert!(
                !buf[..n].starts_with(b"HTTP/1.1 2"),
                "an idle connection got a success"
            ),
            Err(e) => assert!(
                !matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
                "an idle connection was never closed"
            ),
        }
    }
    // ...and then legitimate requests are served again.
    let served = wait_for(Duration::from_secs(10), || {
        m.get("/api/projects").status == 200
    });
    assert!(
        served,
        "requests were not served after the idle connections closed"
    );
    create_and_read_project(&m, "Served after the idle flood");
    assert_eq!(m.get("/readyz").status, 200);
}

#[test]
fn a_request_head_sent_byte_by_byte_is_cut_off() {
    let m = Marcus::start(&["--header-timeout-ms", "2000"]);
    let addr = address(&m);
    let answered = Arc::new(AtomicUsize::new(0));
    let endless = b"X-Padding: ".iter().chain([b'a'; 200].iter()).copied();
    let slowloris = drip(
        &addr,
        format!("GET /api/projects HTTP/1.1\r\nHost: {addr}\r\n"),
        endless.collect(),
        Duration::from_millis(250),
        Duration::from_secs(30),
        answered,
    );
    create_and_read_project(&m, "Served beside a slow header");
    let seen = slowloris.join().unwrap();
    assert!(
        seen.closed,
        "a never-ending request head kept its connection"
    );
    assert!(
        !seen.answer.starts_with(b"HTTP/1.1 2"),
        "{}",
        String::from_utf8_lossy(&seen.answer)
    );
    create_and_read_project(&m, "Served after the slow header");
}

#[test]
fn busy_slots_fail_readiness_while_liveness_answers() {
    let m = Arc::new(Marcus::start(&[
        "--max-concurrent",
        "2",
        "--debug-routes",
        "--request-timeout-ms",
        "8000",
    ]));
    assert_eq!(m.get("/readyz").status, 200);
    let spinners: Vec<_> = (0..2)
        .map(|_| {
            let m = m.clone();
            std::thread::spawn(move || m.get("/api/debug/spin").error())
        })
        .collect();
    let mut saw_not_ready = None;
    wait_for(Duration::from_secs(7), || {
        assert_eq!(m.get("/healthz").status, 200, "liveness needs no slot");
        let ready = m.get("/readyz");
        if ready.status == 503 {
            saw_not_ready = Some(ready.json());
            return true;
        }
        false
    });
    let report = saw_not_ready.expect("readiness stayed green with every slot busy");
    assert_eq!(report["status"], "not_ready");
    assert_eq!(report["checks"]["slots"]["healthy"], false);
    assert_eq!(report["checks"]["slots"]["busy"], 2);
    assert_eq!(report["checks"]["storage"]["healthy"], true);
    for spinner in spinners {
        assert_eq!(spinner.join().unwrap(), (500, "guest_timeout".to_string()));
    }
    assert!(
        wait_for(Duration::from_secs(5), || m.get("/readyz").status == 200),
        "readiness did not recover once slots were free"
    );
    create_and_read_project(&m, "Served once the slots are free");
}

/// Polls `check` every 200 ms until it holds or `limit` passes.
fn wait_for(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let started = Instant::now();
    while started.elapsed() < limit {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    false
}
