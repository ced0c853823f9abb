//! Request ids: every request carries one in `x-request-id` (the caller's, when it sent a
//! sane one, else a new one). The guest sees it as a request header, logs carry it in the
//! request span, and the response echoes it, so one id follows a request everywhere.

use std::sync::atomic::{AtomicU64, Ordering};

/// The header name.
pub const HEADER: &str = "x-request-id";

static NEXT: AtomicU64 = AtomicU64::new(1);

/// Returns the request's id, adding a fresh one when it has none (or one that is too long
/// or not printable ASCII).
pub fn ensure<B>(req: &mut hyper::Request<B>) -> String {
    if let Some(id) = req.headers().get(HEADER).and_then(|v| v.to_str().ok())
        && !id.is_empty()
        && id.len() <= 128
        && id.bytes().all(|b| b.is_ascii_graphic())
    {
        return id.to_string();
    }
    let id = format!(
        "{:x}-{:x}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    if let Ok(value) = hyper::header::HeaderValue::from_str(&id) {
        req.headers_mut().insert(HEADER, value);
    }
    id
}

/// Puts the id on the response.
pub fn echo<B>(resp: &mut hyper::Response<B>, id: &str) {
    if let Ok(value) = hyper::header::HeaderValue::from_str(id) {
        resp.headers_mut().insert(HEADER, value);
    }
}
