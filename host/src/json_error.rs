//! Host-made JSON responses: errors in the same shape the app uses, and the few documents
//! the host serves itself.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// A `{"error": {"code", "message"}}` response with `status` (a 503 also says when to
/// retry, by the same rule as the app's).
pub fn response(status: u16, code: &str, message: &str) -> hyper::Response<HyperOutgoingBody> {
    json(
        status,
        &serde_json::json!({"error": {"code": code, "message": message}}),
    )
}

/// A JSON document with `status` (the few documents the host serves itself use it too).
pub fn json(status: u16, document: &serde_json::Value) -> hyper::Response<HyperOutgoingBody> {
    let body = document.to_string();
    let mut builder = hyper::Response::builder()
        .status(status)
        .header("content-type", "application/json");
    if let Some(seconds) = marcus_core::api_error::retry_after(status) {
        builder = builder.header("retry-after", seconds);
    }
    builder
        .body(
            Full::new(Bytes::from(body))
                .map_err(|never| match never {})
                .boxed_unsync(),
        )
        .expect("static response parts are valid")
}

/// A 405 naming the methods `path` supports, in the message and the `Allow` header.
pub fn method_not_allowed(path: &str, allow: &str) -> hyper::Response<HyperOutgoingBody> {
    let mut response = response(
        405,
        "method_not_allowed",
        &format!("use {allow} for {path}"),
    );
    if let Ok(value) = hyper::header::HeaderValue::from_str(allow) {
        response.headers_mut().insert(hyper::header::ALLOW, value);
    }
    response
}

/// An empty body, for responses such as a protocol switch.
pub fn empty_body() -> HyperOutgoingBody {
    http_body_util::Empty::<Bytes>::new()
        .map_err(|never| match never {})
        .boxed_unsync()
}
