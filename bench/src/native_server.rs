//! The native baseline: a plain hyper HTTP/1.1 server answering
//! `GET /api/storage/{collection}/{id}` straight from SQLite, with no component in between.
//! The bench runs it in a child process (see `native_process`), on its own Tokio runtime.

use crate::native_store::DocumentReader;
use anyhow::Context;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode, header};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::thread::JoinHandle;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// Worker threads of the server's runtime: as many as Marcus's default runtime on 2 cores.
const WORKER_THREADS: usize = 2;

/// A running native server; stops when dropped.
pub struct NativeServer {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl NativeServer {
    /// Serves the database at `db_path` on an ephemeral loopback port.
    pub fn start(db_path: &Path) -> anyhow::Result<Self> {
        let reader = Arc::new(DocumentReader::open(db_path)?);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").context("binding loopback")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(WORKER_THREADS)
            .thread_name("native-server")
            .enable_all()
            .build()?;
        let (shutdown, stop) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("native-server-main".into())
            .spawn(move || runtime.block_on(serve(listener, reader, stop)))?;
        Ok(Self {
            addr,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    /// Where the server listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for NativeServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Accepts connections until `stop` fires.
async fn serve(
    listener: std::net::TcpListener,
    reader: Arc<DocumentReader>,
    mut stop: oneshot::Receiver<()>,
) {
    let listener = match TcpListener::from_std(listener) {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("native server: {e}");
            return;
        }
    };
    loop {
        let stream = tokio::select! {
            _ = &mut stop => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => continue,
            },
        };
        let _ = stream.set_nodelay(true);
        let reader = reader.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let reader = reader.clone();
                async move { Ok::<_, Infallible>(handle(&reader, &request)) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// Routes one request; only document reads exist.
fn handle(reader: &DocumentReader, request: &Request<Incoming>) -> Response<Full<Bytes>> {
    let path = request.uri().path();
    let key = path
        .strip_prefix("/api/storage/")
        .and_then(|rest| rest.split_once('/'))
        .filter(|(collection, id)| !collection.is_empty() && !id.is_empty() && !id.contains('/'));
    let Some((collection, id)) = key else {
        return error(StatusCode::NOT_FOUND, "not_found", "no such route");
    };
    if request.method() != hyper::Method::GET {
        return error(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "read only",
        );
    }
    match reader.read_json(collection, id) {
        Ok(Some(body)) => json(StatusCode::OK, body),
        Ok(None) => error(StatusCode::NOT_FOUND, "not_found", "no such document"),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            &e.to_string(),
        ),
    }
}

fn json(status: StatusCode, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    response
}

/// An error in Marcus's shape: `{"error": {"code", "message"}}`.
fn error(status: StatusCode, code: &str, message: &str) -> Response<Full<Bytes>> {
    let body = serde_json::json!({"error": {"code": code, "message": message}});
    json(status, body.to_string().into_bytes())
}
