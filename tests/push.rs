//! Push served by the host: Server-Sent Events with `Last-Event-ID` resume and WebSocket
//! subscriptions, including a client that stops reading while others keep receiving.

mod common;

use common::Marcus;
use common::board::ok;
use common::sse::SseStream;
use serde_json::{Value, json};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

type Ws = WebSocket<MaybeTlsStream<TcpStream>>;

fn publish(m: &Marcus, channel: &str, payload: Value) -> u64 {
    let r = m.post_json(&format!("/api/realtime/{channel}"), &payload);
    assert_eq!(r.status, 200, "{}", r.text_prefix());
    r.json()["seq"].as_u64().unwrap()
}

#[test]
fn sse_streams_live_events_and_resumes_after_last_event_id() {
    let m = Marcus::start(&[]);
    for n in 1..=3 {
        publish(&m, "news", json!({"n": n}));
    }
    // Resuming after 1: the missed 2 and 3 first, then live ones.
    let mut resumed = SseStream::open(&m.url, "/api/events/stream?channel=news", Some(1));
    assert_eq!(resumed.status, 200);
    assert_eq!(resumed.content_type, "text/event-stream");
    let missed = resumed.take(2, Duration::from_secs(10));
    assert_eq!(missed.iter().map(|e| e.id).collect::<Vec<_>>(), vec![2, 3]);
    assert_eq!(
        serde_json::from_str::<Value>(&missed[0].data).unwrap(),
        json!({"n": 2})
    );

    // A fresh stream starts at the channel's end.
    let mut fresh = SseStream::open(&m.url, "/api/events/stream?channel=news", None);
    std::thread::sleep(Duration::from_millis(200));
    publish(&m, "news", json!({"n": 4}));
    assert_eq!(fresh.take(1, Duration::from_secs(10))[0].id, 4);
    assert_eq!(resumed.take(1, Duration::from_secs(10))[0].id, 4);
    let by_query = SseStream::open(&m.url, "/api/events/stream?channel=news&since=3", None)
        .take(1, Duration::from_secs(10));
    assert_eq!(by_query[0].id, 4);

    // Board changes arrive on the project's channel.
    let created = ok(
        &m,
        "create_project",
        json!({"project_name": "live", "tasks": [{"name": "a"}]}),
    );
    let project = created["project_id"].as_str().unwrap();
    let mut board = SseStream::open(
        &m.url,
        &format!("/api/events/stream?channel=project%3A{project}"),
        Some(0),
    );
    let first = board.take(1, Duration::from_secs(10));
    let event: Value = serde_json::from_str(&first[0].data).unwrap();
    assert_eq!(event["project_id"], project, "{event}");
    ok(
        &m,
        "register_agent",
        json!({"agent_id": "ag", "name": "ag", "role": "dev", "project_id": project}),
    );
    ok(&m, "request_next_task", json!({"agent_id": "ag"}));
    let kinds: Vec<String> = std::iter::from_fn(|| board.next_event(Duration::from_secs(3)))
        .map(|e| {
            serde_json::from_str::<Value>(&e.data).unwrap()["kind"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .take_while(|k| k != "task_assigned")
        .collect();
    assert!(kinds.len() < 10, "task_assigned never arrived: {kinds:?}");
}

#[test]
fn sse_refuses_malformed_requests_with_json_errors() {
    let m = Marcus::start(&[]);
    for path in [
        "/api/events/stream",
        "/api/events/stream?channel=a&channel=b",
        "/api/events/stream?channel=a&since=soon",
    ] {
        assert_eq!(
            m.get(path).error(),
            (400, "bad_request".to_string()),
            "{path}"
        );
    }
    let bad_resume = m.request(
        "GET",
        "/api/events/stream?channel=a",
        &[("last-event-id", "x")],
        None,
    );
    assert_eq!(bad_resume.error(), (400, "bad_request".to_string()));
    let post = m.request(
        "POST",
        "/api/events/stream?channel=a",
        &[("content-type", "application/json")],
        Some(b"{}"),
    );
    assert_eq!(post.error(), (405, "method_not_allowed".to_string()));
    let not_upgrade = m.get("/api/ws");
    assert_eq!(not_upgrade.error(), (400, "bad_request".to_string()));
}

fn connect(m: &Marcus) -> Ws {
    let url = format!("{}/api/ws", m.url.replace("http://", "ws://"));
    let (ws, response) = tungstenite::connect(url).expect("websocket connect");
    assert_eq!(response.status(), 101);
    if let MaybeTlsStream::Plain(s) = ws.get_ref() {
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    }
    ws
}

fn send(ws: &mut Ws, message: Value) {
    ws.send(Message::text(message.to_string()))
        .expect("ws send");
}

/// The next JSON text message (pings are skipped); `None` on timeout.
fn receive(ws: &mut Ws) -> Option<Value> {
    loop {
        match ws.read() {
            Ok(Message::Text(t)) => return Some(serde_json::from_str(t.as_str()).unwrap()),
            Ok(_) => continue,
            Err(_) => return None,
        }
    }
}

fn set_timeout(ws: &Ws, timeout: Duration) {
    if let MaybeTlsStream::Plain(s) = ws.get_ref() {
        s.set_read_timeout(Some(timeout)).unwrap();
    }
}

#[test]
fn websocket_subscriptions_deliver_in_order_and_a_stalled_client_blocks_no_one() {
    let m = Marcus::start(&[]);
    let mut ws = connect(&m);
    send(&mut ws, json!({"type": "ping"}));
    assert_eq!(receive(&mut ws).unwrap()["type"], "pong");
    send(&mut ws, json!({"type": "subscribe", "channel": "c"}));
    let subscribed = receive(&mut ws).unwrap();
    assert_eq!(
        (subscribed["type"].as_str(), subscribed["latest"].as_u64()),
        (Some("subscribed"), Some(0))
    );
    for n in 1..=3 {
        publish(&m, "c", json!({"n": n}));
    }
    publish(&m, "other", json!({"ignored": true}));
    for n in 1..=3u64 {
        let e = receive(&mut ws).unwrap();
        assert_eq!(e["type"], "event");
        assert_eq!(
            (e["channel"].as_str(), e["seq"].as_u64()),
            (Some("c"), Some(n))
        );
        assert_eq!(e["payload"], json!({"n": n}));
    }
    send(&mut ws, json!({"type": "unsubscribe", "channel": "c"}));
    assert_eq!(receive(&mut ws).unwrap()["type"], "unsubscribed");
    publish(&m, "c", json!({"n": 4}));
    send(
        &mut ws,
        json!({"type": "subscribe", "channel": "c", "since": 2}),
    );
    assert_eq!(receive(&mut ws).unwrap()["type"], "subscribed");
    let replay: Vec<u64> = (0..2)
        .map(|_| receive(&mut ws).unwrap()["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(
        replay,
        vec![3, 4],
        "replay after since, nothing from the unsubscribed time twice"
    );
    send(&mut ws, json!({"type": "dance"}));
    assert_eq!(receive(&mut ws).unwrap()["type"], "error");
    ws.send(Message::text("not json")).unwrap();
    assert_eq!(receive(&mut ws).unwrap()["type"], "error");

    // A client that subscribes and never reads again, while 1,500 large events go out.
    let mut stalled = connect(&m);
    send(
        &mut stalled,
        json!({"type": "subscribe", "channel": "flood"}),
    );
    assert_eq!(receive(&mut stalled).unwrap()["type"], "subscribed");
    send(&mut ws, json!({"type": "subscribe", "channel": "flood"}));
    assert_eq!(receive(&mut ws).unwrap()["type"], "subscribed");
    let filler = "x".repeat(4096);
    let started = Instant::now();
    let reader = std::thread::spawn(move || {
        set_timeout(&ws, Duration::from_secs(30));
        let mut seqs = Vec::new();
        while seqs.len() < 1500 {
            match receive(&mut ws) {
                Some(e) if e["type"] == "event" => seqs.push(e["seq"].as_u64().unwrap()),
                Some(_) => {}
                None => break,
            }
        }
        seqs
    });
    for n in 0..1500 {
        publish(&m, "flood", json!({"n": n, "filler": filler}));
    }
    let seqs = reader.join().unwrap();
    assert_eq!(
        seqs,
        (1..=1500).collect::<Vec<u64>>(),
        "the reading client got everything in order"
    );
    assert!(started.elapsed() < Duration::from_secs(60));
    drop(stalled);
    assert_eq!(m.get("/healthz").status, 200);
}

#[test]
fn websockets_can_be_turned_off() {
    let m = Marcus::start_env(&[], &[("ENABLE_WEBSOCKETS", "0")]);
    let f = m.get("/api/features").json();
    assert_eq!(
        f["push"],
        json!({"sse": "/api/events/stream", "websocket": null})
    );
    assert_eq!(f["backends"]["push"]["name"], "sse");
    let url = format!("{}/api/ws", m.url.replace("http://", "ws://"));
    match tungstenite::connect(url) {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 404),
        other => panic!(
            "websocket accepted while off: {:?}",
            other.map(|(_, r)| r.status())
        ),
    }
    let on = Marcus::start(&[]);
    assert_eq!(
        on.get("/api/features").json()["push"],
        json!({"sse": "/api/events/stream", "websocket": "/api/ws"})
    );
}
