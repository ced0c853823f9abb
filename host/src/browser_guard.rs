//! The browser protections of `marcus_core::request_guard`, applied by the host to every
//! request before anything serves it (the app, the SSE and WebSocket streams, `/metrics`),
//! and the security headers added to every response.

use crate::json_error;
use marcus_core::request_guard::{self, GuardPolicy, RequestFacts, SECURITY_HEADERS};
use std::net::SocketAddr;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// The policy for a listen address and the operator's lists: only a loopback listener
/// restricts `Host` names (DNS rebinding reaches exactly those).
pub fn policy(listen: SocketAddr, allowed_hosts: &str, allowed_origins: &str) -> GuardPolicy {
    GuardPolicy::from_lists(listen.ip().is_loopback(), allowed_hosts, allowed_origins)
}

/// The refusal for a request a hostile page could have sent, or `None` to serve it.
pub fn refuse<B>(
    policy: &GuardPolicy,
    req: &hyper::Request<B>,
) -> Option<hyper::Response<HyperOutgoingBody>> {
    let header = |name: hyper::header::HeaderName| {
        req.headers()
            .get(name)
            .map(|v| v.to_str().unwrap_or("\u{fffd}"))
    };
    let host = header(hyper::header::HOST).or_else(|| req.uri().authority().map(|a| a.as_str()));
    let has_body = req
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok())
        .is_some_and(|n| n > 0)
        || req.headers().contains_key(hyper::header::TRANSFER_ENCODING);
    let facts = RequestFacts {
        method: req.method().as_str(),
        host,
        origin: header(hyper::header::ORIGIN),
        content_type: header(hyper::header::CONTENT_TYPE),
        has_body,
    };
    // The SAML identity provider's answer is a form another site's page posts: only the
    // host name is checked there; the answer's signature is checked by its route.
    let cross_site_post = req.method() == hyper::Method::POST
        && crate::sso::routes::CROSS_SITE_POSTS.contains(&req.uri().path());
    let verdict = if cross_site_post {
        request_guard::check_host(policy, &facts)
    } else {
        request_guard::check(policy, &facts)
    };
    let refusal = verdict.err()?;
    metrics::counter!("marcus_requests_refused_total", "reason" => refusal.code).increment(1);
    tracing::warn!(
        code = refusal.code,
        host = host.unwrap_or(""),
        origin = facts.origin.unwrap_or(""),
        "refused a request a browser on another site could have sent"
    );
    let mut response = json_error::response(refusal.status, refusal.code, &refusal.message);
    // The body of a refused request is not read: close rather than leave it in the stream.
    if has_body {
        response.headers_mut().insert(
            hyper::header::CONNECTION,
            hyper::header::HeaderValue::from_static("close"),
        );
    }
    Some(response)
}

/// Adds the security headers a response does not set itself.
pub fn secure<B>(response: &mut hyper::Response<B>) {
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers
            .entry(*name)
            .or_insert_with(|| hyper::header::HeaderValue::from_static(value));
    }
}
