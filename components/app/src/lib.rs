//! The Marcus application component: serves HTTP on `wasi:http/incoming-handler` and does
//! all its work through the `marcus:platform` imports, so any host that provides them
//! (the native wasmtime host, Spin through an adapter) runs it unchanged.

mod bindings;
mod events;
mod http_io;
mod ids;
mod jobs;
mod mcp;
mod platform_error;
mod records;
mod router;
mod routes;
mod tools;
mod views;

use wasip2::http::types::{IncomingRequest, ResponseOutparam};

/// The exported HTTP handler.
struct App;

impl wasip2::exports::http::incoming_handler::Guest for App {
    fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
        let response = match http_io::Request::read(request) {
            Ok(request) => match routes::event_stream::accept(&request) {
                Some(Ok(stream)) => return stream.send(response_out),
                Some(Err(error)) => http_io::Response::error(&error),
                None => router::route(&request),
            },
            Err(error) => http_io::Response::error(&error),
        };
        response.send(response_out);
    }
}

wasip2::http::proxy::export!(App);
