//! The dashboard: one HTML page, a stylesheet and a script, compiled into the component so
//! every host serves the same files with no web server, build step or network beside it.
//!
//! The page links the assets with a content hash in the query (`?v=`), so browsers may keep
//! them for a year and still never run a stale script after an upgrade; the page itself is
//! revalidated on every load (`ETag`).

use crate::http_io::{Request, Response};
use marcus_core::api_error::ApiError;

const INDEX_HTML: &str = include_str!("../../assets/dashboard/index.html");
const DASHBOARD_CSS: &str = include_str!("../../assets/dashboard/dashboard.css");
const DASHBOARD_JS: &str = include_str!("../../assets/dashboard/dashboard.js");

/// The placeholder in index.html that becomes [`ASSET_VERSION`].
const VERSION_PLACEHOLDER: &str = "{{asset_version}}";

/// FNV-1a over the bytes, at compile time: a change to any asset changes the version.
const fn fnv1a(bytes: &[u8], mut hash: u64) -> u64 {
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    hash
}

/// Content hash of all three files.
pub const ASSET_VERSION: u64 = fnv1a(
    DASHBOARD_JS.as_bytes(),
    fnv1a(
        DASHBOARD_CSS.as_bytes(),
        fnv1a(INDEX_HTML.as_bytes(), 0xcbf2_9ce4_8422_2325),
    ),
);

fn version_text() -> String {
    format!("{ASSET_VERSION:016x}")
}

fn not_modified(req: &Request, etag: &str) -> bool {
    req.header("if-none-match")
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
}

fn cacheable(
    req: &Request,
    content_type: &'static str,
    body: Vec<u8>,
    cache_control: &str,
) -> Response {
    let etag = format!("\"{}\"", version_text());
    let response = if not_modified(req, &etag) {
        Response::bytes(304, content_type, Vec::new())
    } else {
        Response::bytes(200, content_type, body)
    };
    response
        .with_header("etag", etag)
        .with_header("cache-control", cache_control.to_string())
        .with_header("x-content-type-options", "nosniff".to_string())
}

/// `GET /`: the page, with the asset version filled in.
pub fn index(req: &Request) -> Result<Response, ApiError> {
    only_get(req)?;
    let html = INDEX_HTML.replace(VERSION_PLACEHOLDER, &version_text());
    Ok(cacheable(
        req,
        "text/html; charset=utf-8",
        html.into_bytes(),
        "no-cache",
    ))
}

/// `GET /assets/{name}`: the stylesheet or the script.
pub fn asset(req: &Request, name: &str) -> Result<Response, ApiError> {
    only_get(req)?;
    let (content_type, body) = match name {
        "dashboard.css" => ("text/css; charset=utf-8", DASHBOARD_CSS),
        "dashboard.js" => ("text/javascript; charset=utf-8", DASHBOARD_JS),
        _ => return Err(ApiError::not_found(format!("no asset named {name}"))),
    };
    // Only a request naming the current version may be kept for good.
    let cache_control = if req.query_param("v") == Some(version_text().as_str()) {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    Ok(cacheable(
        req,
        content_type,
        body.as_bytes().to_vec(),
        cache_control,
    ))
}

/// GET, and HEAD (answered like GET; the server sends no body for it), as link checkers and
/// proxies use.
fn only_get(req: &Request) -> Result<(), ApiError> {
    match req.method.as_str() {
        "GET" | "HEAD" => Ok(()),
        other => Err(crate::allowed_methods::method_not_allowed(
            other,
            &["GET", "HEAD"],
        )),
    }
}
