//! The Marcus application component: serves HTTP on `wasi:http/incoming-handler` and does
//! all its work through the `marcus:platform` imports, so any host that provides them
//! (the native wasmtime host, Spin through an adapter) runs it unchanged. Without the
//! `http-handler` feature it is a library of the same code for other components (the Spin
//! worker runs the job queue through [`run_due_jobs`]).
#![cfg_attr(not(feature = "http-handler"), allow(dead_code))]

mod allowed_methods;
mod bindings;
mod board_error;
mod browser_guard;
mod caller;
mod events;
mod http_io;
mod ids;
mod jobs;
mod mcp;
mod outbound_http;
mod platform;
mod platform_error;
mod read_ahead;
mod read_cache;
mod records;
mod request_report;
mod router;
mod routes;
mod sse_response;
mod tools;
mod unit_of_work;
mod views;
mod webhook_fanout;

#[cfg(feature = "http-handler")]
use wasip2::http::types::{IncomingRequest, ResponseOutparam};

/// Runs up to `limit` due jobs of the shared queue (and keeps the periodic lease sweep at
/// `sweep_every_ms`), as `POST /api/jobs/run` does; answers what each job did. Nothing read
/// ahead is carried into a run or out of it: the Spin worker runs several tenants' jobs one
/// after another in one instance, and no tenant's run may be answered from another's reads.
pub fn run_due_jobs(
    limit: usize,
    sweep_every_ms: Option<u64>,
) -> Result<serde_json::Value, String> {
    read_ahead::forget();
    let ran = jobs::runner::run_due(limit, sweep_every_ms)
        .map_err(|e| format!("{}: {}", e.code, e.message));
    read_ahead::forget();
    ran
}

/// The exported HTTP handler.
#[cfg(feature = "http-handler")]
struct App;

#[cfg(feature = "http-handler")]
impl wasip2::exports::http::incoming_handler::Guest for App {
    fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
        let response = match http_io::Request::read(request) {
            Ok(request) => match browser_guard::check(&request)
                .and_then(|()| caller::establish(&request))
                .map(|()| routes::event_stream::accept(&request))
            {
                Err(refusal) => http_io::Response::error(&refusal),
                Ok(Some(Ok(stream))) => return stream.send(response_out),
                Ok(Some(Err(error))) => http_io::Response::error(&error),
                Ok(None) => match mcp::notifications::accept(&request) {
                    Some(Ok(stream)) => return stream.send(response_out),
                    Some(Err(error)) => http_io::Response::error(&error),
                    None => {
                        read_cache::bypass(
                            request
                                .header("cache-control")
                                .is_some_and(|v| v.to_ascii_lowercase().contains("no-cache")),
                        );
                        let response = router::route(&request);
                        request_report::tell_host(response)
                    }
                },
            },
            Err(error) => http_io::Response::error(&error),
        };
        response.send(response_out);
    }
}

// Exported only from the component: a native build (the app's unit tests) has no WASI
// export table to link the handler into, and names the handler so it is still checked.
#[cfg(all(feature = "http-handler", target_arch = "wasm32"))]
wasip2::http::proxy::export!(App);
#[cfg(all(feature = "http-handler", not(target_arch = "wasm32")))]
const _: fn(IncomingRequest, ResponseOutparam) =
    <App as wasip2::exports::http::incoming_handler::Guest>::handle;
