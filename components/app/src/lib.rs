//! The Marcus application component: serves HTTP on `wasi:http/incoming-handler` and does
//! all its work through the `marcus:platform` imports, so any host that provides them
//! (the native wasmtime host, Spin through an adapter) runs it unchanged.

mod bindings;
mod http_io;
mod platform_error;
mod router;
mod routes;

use wasip2::http::types::{IncomingRequest, ResponseOutparam};

/// The exported HTTP handler.
struct App;

impl wasip2::exports::http::incoming_handler::Guest for App {
    fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
        let response = match http_io::Request::read(request) {
            Ok(request) => router::route(&request),
            Err(error) => http_io::Response::error(&error),
        };
        response.send(response_out);
    }
}

wasip2::http::proxy::export!(App);
