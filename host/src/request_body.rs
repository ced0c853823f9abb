//! Reading a request body in full before the app runs, under its own deadline.
//!
//! A client that sends its body slowly then holds only its connection, never an execution
//! slot: the slot is taken once the whole body is in memory, and a body that has not
//! arrived by the deadline is answered `408 request_timeout` and the connection closed.

use crate::guest_call::MAX_BODY_BYTES;
use crate::json_error;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use std::time::Duration;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// A request whose body is fully read.
pub type BufferedRequest = hyper::Request<Full<Bytes>>;

/// Reads the whole body of `req` within `deadline`; otherwise the response to send instead
/// (408 past the deadline, 413 over [`MAX_BODY_BYTES`], 400 for a broken body), each asking
/// to close the connection since the rest of the body is not read.
pub async fn collect(
    req: hyper::Request<hyper::body::Incoming>,
    deadline: Duration,
) -> Result<BufferedRequest, hyper::Response<HyperOutgoingBody>> {
    let (parts, body) = req.into_parts();
    let limited = Limited::new(body, MAX_BODY_BYTES as usize);
    let mut refusal = match tokio::time::timeout(deadline, limited.collect()).await {
        Ok(Ok(collected)) => {
            return Ok(hyper::Request::from_parts(
                parts,
                Full::new(collected.to_bytes()),
            ));
        }
        Err(_elapsed) => {
            metrics::counter!("marcus_request_body_timeouts_total").increment(1);
            json_error::response(
                408,
                "request_timeout",
                &format!(
                    "the request body did not arrive within {} ms",
                    deadline.as_millis()
                ),
            )
        }
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => json_error::response(
            413,
            "payload_too_large",
            &format!("request body exceeds the limit of {MAX_BODY_BYTES} bytes"),
        ),
        Ok(Err(e)) => json_error::response(
            400,
            "bad_request",
            &format!("the request body could not be read: {e}"),
        ),
    };
    refusal.headers_mut().insert(
        hyper::header::CONNECTION,
        hyper::header::HeaderValue::from_static("close"),
    );
    Err(refusal)
}
