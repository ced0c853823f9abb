//! Outgoing HTTP requests through `wasi:http/outgoing-handler`: the one way the app reaches
//! the outside (webhook deliveries), with timeouts so a receiver that hangs cannot hold a
//! job runner past its deadline. Failures come back as a [`FailureClass`], never as the
//! transport's words, so the delivery log cannot be used to map a network.

use marcus_core::webhooks::FailureClass;
use std::io::Write as _;
use std::time::Duration;
use wasip2::http::outgoing_handler;
use wasip2::http::types::{
    ErrorCode, Fields, Method, OutgoingBody, OutgoingRequest, RequestOptions, Scheme,
};

/// What a receiver answered.
pub struct Answer {
    /// HTTP status.
    pub status: u16,
}

/// POSTs `body` to `url` with `headers`; an error says which kind of failure it was.
pub fn post(
    url: &str,
    headers: &[(&str, String)],
    body: &[u8],
    timeout: Duration,
) -> Result<Answer, FailureClass> {
    let (scheme, rest) = if let Some(r) = url.strip_prefix("https://") {
        (Scheme::Https, r)
    } else if let Some(r) = url.strip_prefix("http://") {
        (Scheme::Http, r)
    } else {
        return Err(FailureClass::DestinationRefused);
    };
    let split = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(split);
    let path = if path.is_empty() {
        "/".to_string()
    } else if path.starts_with('?') {
        format!("/{path}")
    } else {
        path.to_string()
    };
    let mut entries: Vec<(String, Vec<u8>)> = headers
        .iter()
        .map(|(n, v)| (n.to_string(), v.clone().into_bytes()))
        .collect();
    entries.push(("content-length".into(), body.len().to_string().into_bytes()));
    // The host refusing a part of the request means it cannot be sent there at all.
    let refused = |_| FailureClass::DestinationRefused;
    let fields = Fields::from_list(&entries).map_err(|_| FailureClass::DestinationRefused)?;
    let request = OutgoingRequest::new(fields);
    request.set_method(&Method::Post).map_err(refused)?;
    request.set_scheme(Some(&scheme)).map_err(refused)?;
    request.set_authority(Some(authority)).map_err(refused)?;
    request.set_path_with_query(Some(&path)).map_err(refused)?;
    let outgoing = request.body().map_err(refused)?;
    let options = RequestOptions::new();
    let nanos = Some(timeout.as_nanos().min(u64::MAX as u128) as u64);
    let _ = options.set_connect_timeout(nanos);
    let _ = options.set_first_byte_timeout(nanos);
    let _ = options.set_between_bytes_timeout(nanos);
    let pending = outgoing_handler::handle(request, Some(options)).map_err(|e| class(&e))?;
    // A body the receiver stopped reading is judged by the answer (or its absence) below.
    if let Ok(mut stream) = outgoing.write() {
        let _ = stream
            .write_all(body)
            .and_then(|()| std::io::Write::flush(&mut stream));
    }
    let _ = OutgoingBody::finish(outgoing, None);
    pending.subscribe().block();
    match pending.get() {
        Some(Ok(Ok(response))) => Ok(Answer {
            status: response.status(),
        }),
        Some(Ok(Err(code))) => Err(class(&code)),
        Some(Err(())) | None => Err(FailureClass::ConnectionFailed),
    }
}

/// The class of a `wasi:http` error code.
fn class(code: &ErrorCode) -> FailureClass {
    match code {
        ErrorCode::DestinationIpProhibited | ErrorCode::HttpRequestDenied => {
            FailureClass::DestinationRefused
        }
        ErrorCode::ConnectionTimeout
        | ErrorCode::ConnectionReadTimeout
        | ErrorCode::ConnectionWriteTimeout
        | ErrorCode::HttpResponseTimeout
        | ErrorCode::DnsTimeout => FailureClass::Timeout,
        ErrorCode::TlsProtocolError
        | ErrorCode::TlsCertificateError
        | ErrorCode::TlsAlertReceived(_) => FailureClass::TlsFailed,
        _ => FailureClass::ConnectionFailed,
    }
}
