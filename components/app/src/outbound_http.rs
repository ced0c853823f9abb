//! Outgoing HTTP requests through `wasi:http/outgoing-handler`: the one way the app reaches
//! the outside (webhook deliveries), with timeouts so a receiver that hangs cannot hold a
//! job runner past its deadline.

use std::io::Write as _;
use std::time::Duration;
use wasip2::http::outgoing_handler;
use wasip2::http::types::{Fields, Method, OutgoingBody, OutgoingRequest, RequestOptions, Scheme};

/// What a receiver answered.
pub struct Answer {
    /// HTTP status.
    pub status: u16,
}

/// POSTs `body` to `url` with `headers`; an error is the transport failure in words.
pub fn post(
    url: &str,
    headers: &[(&str, String)],
    body: &[u8],
    timeout: Duration,
) -> Result<Answer, String> {
    let (scheme, rest) = if let Some(r) = url.strip_prefix("https://") {
        (Scheme::Https, r)
    } else if let Some(r) = url.strip_prefix("http://") {
        (Scheme::Http, r)
    } else {
        return Err(format!("unsupported URL {url:?}"));
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
    let fields = Fields::from_list(&entries).map_err(|e| format!("bad header: {e:?}"))?;
    let request = OutgoingRequest::new(fields);
    let refused = |what: &str| format!("the host refused the request's {what}");
    request
        .set_method(&Method::Post)
        .map_err(|()| refused("method"))?;
    request
        .set_scheme(Some(&scheme))
        .map_err(|()| refused("scheme"))?;
    request
        .set_authority(Some(authority))
        .map_err(|()| refused("host"))?;
    request
        .set_path_with_query(Some(&path))
        .map_err(|()| refused("path"))?;
    let outgoing = request.body().map_err(|()| refused("body"))?;
    let options = RequestOptions::new();
    let nanos = Some(timeout.as_nanos().min(u64::MAX as u128) as u64);
    let _ = options.set_connect_timeout(nanos);
    let _ = options.set_first_byte_timeout(nanos);
    let _ = options.set_between_bytes_timeout(nanos);
    let pending = outgoing_handler::handle(request, Some(options))
        .map_err(|e| format!("sending failed: {e:?}"))?;
    {
        let mut stream = outgoing.write().map_err(|()| refused("body stream"))?;
        stream
            .write_all(body)
            .and_then(|()| std::io::Write::flush(&mut stream))
            .map_err(|e| format!("writing the body failed: {e}"))?;
    }
    OutgoingBody::finish(outgoing, None).map_err(|e| format!("finishing the body: {e:?}"))?;
    pending.subscribe().block();
    match pending.get() {
        Some(Ok(Ok(response))) => Ok(Answer {
            status: response.status(),
        }),
        Some(Ok(Err(code))) => Err(format!("{code:?}")),
        Some(Err(())) | None => Err("no response".to_string()),
    }
}
