//! Serving one HTTP request with a fresh instance of the app component, within a memory
//! cap and a deadline. A trap or a timeout becomes a 500 JSON error; the host carries on.

use crate::json_error;
use crate::platform::{Platform, call_count};
use crate::request_state::RequestState;
use marcus_identity::principal::Principal;
use std::sync::Arc;
use std::time::Duration;
use wasmtime::{Store, Trap, UpdateDeadline};
use wasmtime_wasi_http::WasiHttpView as _;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// Everything needed to run requests, shared by all connections.
pub struct GuestRunner {
    /// The pre-instantiated component.
    pub pre: ProxyPre<RequestState>,
    /// The backends.
    pub platform: Arc<Platform>,
    /// Linear memory cap per request.
    pub memory_limit_bytes: usize,
    /// Execution deadline per request.
    pub deadline: Duration,
    /// Bounds concurrent instances to the pool's size.
    pub slots: Arc<crate::slots::Slots>,
    /// How long a request body may take to arrive; it is read before a slot is taken.
    pub body_timeout: Duration,
}

impl GuestRunner {
    /// Runs the component for `req` and returns its response (or a JSON error). The body is
    /// read in full first (see [`crate::request_body`]), so the app gets it from memory and
    /// a slow client never holds a slot.
    pub async fn serve(
        self: &Arc<Self>,
        mut req: hyper::Request<hyper::body::Incoming>,
        principal: Option<Principal>,
    ) -> hyper::Response<HyperOutgoingBody> {
        let method = req.method().clone();
        let path = req.uri().path().to_string();
        let started = std::time::Instant::now();
        let tell_calls = req.headers().contains_key(call_count::HEADER);
        if let Some(too_large) = refuse_oversized(&mut req).await {
            return too_large;
        }
        let req = match crate::request_body::collect(req, self.body_timeout).await {
            Ok(buffered) => buffered.map(|body| {
                http_body_util::BodyExt::map_err(body, |never| -> wasmtime_wasi_http::Error {
                    match never {}
                })
            }),
            Err(refusal) => return refusal,
        };
        let response = match self.run(req, tell_calls, principal).await {
            Ok(resp) => resp,
            Err(failure) => {
                tracing::error!(%method, %path, "{}", failure.message);
                json_error::response(500, failure.code, &failure.message)
            }
        };
        tracing::debug!(%method, %path, status = response.status().as_u16(), elapsed_us = started.elapsed().as_micros() as u64, "request");
        response
    }

    /// Runs the component for a bodiless request made in this process on behalf of
    /// `principal` (background jobs, commands reading the board without a listener).
    pub async fn call_as(
        self: &Arc<Self>,
        method: hyper::Method,
        path: &str,
        request_id: &str,
        principal: Principal,
    ) -> hyper::Response<HyperOutgoingBody> {
        let body = http_body_util::BodyExt::map_err(
            http_body_util::Empty::<bytes::Bytes>::new(),
            |never| -> wasmtime_wasi_http::Error { match never {} },
        );
        let req = match hyper::Request::builder()
            .method(method)
            .uri(format!("http://localhost{path}"))
            .header("x-request-id", request_id)
            .body(body)
        {
            Ok(r) => r,
            Err(e) => return json_error::response(500, "internal", &e.to_string()),
        };
        match self.run(req, false, Some(principal)).await {
            Ok(resp) => resp,
            Err(failure) => json_error::response(500, failure.code, &failure.message),
        }
    }

    /// Runs one request's instance; with `tell_calls` the response carries the number of
    /// platform calls the app made for it (see [`call_count::HEADER`]).
    async fn run<B>(
        self: &Arc<Self>,
        req: hyper::Request<B>,
        tell_calls: bool,
        principal: Option<Principal>,
    ) -> Result<hyper::Response<HyperOutgoingBody>, Failure>
    where
        B: hyper::body::Body<Data = bytes::Bytes> + Send + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
    {
        let method = req.method().to_string();
        let path = req.uri().path().to_string();
        let request_id = req
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let principal_for_audit = principal.clone();
        let permit = self
            .slots
            .acquire()
            .await
            .ok_or_else(|| Failure::internal("the server is shutting down"))?;
        let mut store = Store::new(
            self.pre.engine(),
            RequestState::new(self.platform.clone(), self.memory_limit_bytes, principal),
        );
        store.limiter(|s| &mut s.limits);
        // At every epoch tick a running guest yields to the executor, so a guest that
        // computes without pause cannot starve other requests, probes or the accept loop;
        // past the deadline it is interrupted (a `guest_timeout`).
        // Time spent waiting on a realtime channel runs no guest code and moves the deadline.
        let deadline = std::time::Instant::now() + self.deadline;
        let waited = store.data().platform.waited_ms.clone();
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_| {
            let waited =
                std::time::Duration::from_millis(waited.load(std::sync::atomic::Ordering::Relaxed));
            Ok(if std::time::Instant::now() >= deadline + waited {
                UpdateDeadline::Interrupt
            } else {
                UpdateDeadline::Yield(1)
            })
        });

        let (sender, receiver) = tokio::sync::oneshot::channel();
        let wasi_req = store
            .data_mut()
            .http()
            .new_incoming_request(Scheme::Http, req)
            .map_err(|e| Failure::internal(&format!("preparing the request: {e}")))?;
        let out = store
            .data_mut()
            .http()
            .new_response_outparam(sender)
            .map_err(|e| Failure::internal(&format!("preparing the response: {e}")))?;
        let report = store.data().platform.report.clone();
        let calls = store.data().platform.calls.clone();
        let pre = self.pre.clone();
        // The instance's platform calls record into this request's audit state; a request
        // made in this process (a job) is its own.
        let audit = crate::audit::request::current().unwrap_or_else(|| {
            let r = crate::audit::RequestAudit::new(marcus_core::audit::RequestInfo {
                id: request_id.clone(),
                client: "local".into(),
                user_agent: "marcus".into(),
                method: method.clone(),
                path: path.clone(),
            });
            r.set_principal(principal_for_audit.clone());
            r
        });
        let task = tokio::task::spawn(audit.run(async move {
            let _permit = permit;
            let instantiating = std::time::Instant::now();
            let proxy = pre.instantiate_async(&mut store).await?;
            metrics::histogram!("marcus_component_instantiation_seconds")
                .record(instantiating.elapsed().as_secs_f64());
            proxy
                .wasi_http_incoming_handler()
                .call_handle(&mut store, wasi_req, out)
                .await
        }));
        match receiver.await {
            Ok(Ok(mut resp)) => {
                // The app reports while it computes, before it sends the response head.
                let told = report.lock().map(|r| r.clone()).unwrap_or_default();
                resp.extensions_mut().insert(told);
                let mut resp = buffer_small_body(resp).await;
                // A buffered body is complete, so the count covers the whole request; a
                // streamed one is counted up to its response head.
                if tell_calls {
                    resp.headers_mut().insert(
                        call_count::HEADER,
                        hyper::header::HeaderValue::from(calls.total()),
                    );
                }
                Ok(resp)
            }
            Ok(Err(code)) => Err(Failure::internal(&format!(
                "the app answered with an error: {code:?}"
            ))),
            Err(_) => match task.await {
                Ok(Ok(())) => Err(Failure::internal("the app did not produce a response")),
                Ok(Err(e)) => Err(Failure::from_guest(&e)),
                Err(join) => Err(Failure::internal(&format!("request task failed: {join}"))),
            },
        }
    }
}

/// Why a request could not be answered by the app.
struct Failure {
    code: &'static str,
    message: String,
}

impl Failure {
    fn internal(message: &str) -> Self {
        Self {
            code: "internal",
            message: message.to_string(),
        }
    }

    fn from_guest(e: &wasmtime::Error) -> Self {
        match e.downcast_ref::<Trap>() {
            Some(Trap::Interrupt) => Self {
                code: "guest_timeout",
                message: "the app ran past the request deadline and was stopped".into(),
            },
            Some(trap) => Self {
                code: "guest_trap",
                message: format!("the app trapped: {trap}"),
            },
            None => Self {
                code: "guest_trap",
                message: format!("the app failed: {e:#}"),
            },
        }
    }
}

/// The whole body of a response the host asked for itself (empty if it fails midway).
pub async fn body_bytes(resp: hyper::Response<HyperOutgoingBody>) -> bytes::Bytes {
    use http_body_util::BodyExt;
    match resp.into_body().collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => bytes::Bytes::new(),
    }
}

/// Largest body gathered before sending, so that headers and body leave in one write.
const BUFFER_LIMIT: u64 = 256 * 1024;

/// Collects a body whose declared length is small; streams anything else as it comes.
async fn buffer_small_body(
    resp: hyper::Response<HyperOutgoingBody>,
) -> hyper::Response<HyperOutgoingBody> {
    use http_body_util::{BodyExt, Full};
    let small = resp
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
        .is_some_and(|n| n <= BUFFER_LIMIT);
    if !small {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    match body.collect().await {
        Ok(collected) => hyper::Response::from_parts(
            parts,
            Full::new(collected.to_bytes())
                .map_err(|never| match never {})
                .boxed_unsync(),
        ),
        Err(e) => {
            tracing::error!("reading the app's response body: {e:?}");
            json_error::response(500, "internal", "the app's response body failed")
        }
    }
}

/// Request bodies the app accepts, in bytes (the app enforces the same limit on bodies
/// without a declared length).
pub const MAX_BODY_BYTES: u64 = 1024 * 1024;
/// An oversized body up to this size is read and discarded so the client can read the 413;
/// beyond it the connection is closed.
const DRAIN_LIMIT: u64 = 16 * 1024 * 1024;

/// Answers 413 for a declared body length over the limit, without waking the app.
async fn refuse_oversized(
    req: &mut hyper::Request<hyper::body::Incoming>,
) -> Option<hyper::Response<HyperOutgoingBody>> {
    use http_body_util::BodyExt;
    let declared = req
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())?;
    if declared <= MAX_BODY_BYTES {
        return None;
    }
    let mut response = json_error::response(
        413,
        "payload_too_large",
        &format!("request body of {declared} bytes exceeds the limit of {MAX_BODY_BYTES} bytes"),
    );
    if declared <= DRAIN_LIMIT {
        let body = req.body_mut();
        while let Some(frame) = body.frame().await {
            if frame.is_err() {
                break;
            }
        }
    } else {
        response.headers_mut().insert(
            hyper::header::CONNECTION,
            hyper::header::HeaderValue::from_static("close"),
        );
    }
    Some(response)
}
