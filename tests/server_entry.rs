//! The server entry as a library: `serve::run_on` takes a bound listener and a shutdown
//! future, so a test drives a whole server in-process (no child process, no signals): it
//! serves on the given listener, stops when the future resolves, and what it stored is there
//! for the next server on the same data directory.

use clap::Parser;
use marcus_host::cli::{Cli, Command};
use std::time::Duration;

/// The `serve` arguments for `data_dir`, as the command line would give them.
fn serve_args(data_dir: &std::path::Path) -> marcus_host::cli::ServeArgs {
    let cli = Cli::parse_from([
        "marcus",
        "serve",
        "--data-dir",
        data_dir.to_str().unwrap(),
        "--jobs-interval-ms",
        "0",
    ]);
    match cli.command {
        Command::Serve(args) => *args,
        other => panic!("parsed {other:?}"),
    }
}

/// Runs a server on a fresh loopback listener until the returned sender fires.
async fn start(
    data_dir: &std::path::Path,
) -> (
    String,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<anyhow::Result<()>>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(marcus_host::serve::run_on(
        serve_args(data_dir),
        listener,
        async move {
            let _ = stopped.await;
        },
    ));
    (url, stop, server)
}

/// One blocking HTTP exchange: status and body.
async fn call(method: &str, url: String, body: Option<&'static str>) -> (u16, String) {
    let method = method.to_string();
    tokio::task::spawn_blocking(move || {
        let req = ureq::request(&method, &url).timeout(Duration::from_secs(30));
        let answer = match body {
            Some(b) => req.set("content-type", "application/json").send_string(b),
            None => req.call(),
        };
        match answer {
            Ok(r) => (r.status(), r.into_string().unwrap_or_default()),
            Err(ureq::Error::Status(code, r)) => (code, r.into_string().unwrap_or_default()),
            Err(e) => (0, e.to_string()),
        }
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_driven_in_process_serves_stops_and_keeps_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let (url, stop, server) = start(dir.path()).await;
    // Connections made while it starts wait in the backlog: the first answer is a real one.
    assert_eq!(call("GET", format!("{url}/healthz"), None).await.0, 200);
    let (status, body) = call(
        "PUT",
        format!("{url}/api/storage/notes/n1"),
        Some(r#"{"kept": true}"#),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, metrics) = call("GET", format!("{url}/metrics"), None).await;
    assert_eq!(status, 200);
    assert!(
        metrics.contains("marcus_http_requests_total{route=\"/api/storage/{id}/{id}\",method=\"PUT\",status=\"200\"} 1"),
        "{metrics}"
    );

    stop.send(()).unwrap();
    let ended = tokio::time::timeout(Duration::from_secs(40), server)
        .await
        .expect("the server stops once its shutdown future resolves");
    ended.unwrap().unwrap();
    assert_eq!(
        call("GET", format!("{url}/healthz"), None).await.0,
        0,
        "nothing listens after shutdown"
    );

    let (url, stop, server) = start(dir.path()).await;
    let (status, body) = call("GET", format!("{url}/api/storage/notes/n1"), None).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"kept\":true"), "{body}");
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}
