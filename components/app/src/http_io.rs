//! Reading requests from and writing responses to `wasi:http`, with the body size limit.

use marcus_core::api_error::ApiError;
use serde_json::Value;
use std::io::Write as _;
use wasip2::http::types::{
    Fields, IncomingRequest, Method, OutgoingBody, OutgoingResponse, ResponseOutparam,
};
use wasip2::io::streams::StreamError;

/// Largest accepted request body: 1 MiB.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A fully read request.
pub struct Request {
    /// Upper-case method name.
    pub method: String,
    /// Path without the query string, percent-decoding not applied.
    pub path: String,
    /// Query parameters in order.
    pub query: Vec<(String, String)>,
    /// The request's authority (`host[:port]`), as the host received it.
    pub authority: Option<String>,
    /// Headers with lower-case names.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body bytes (at most [`MAX_BODY_BYTES`]).
    pub body: Vec<u8>,
}

impl Request {
    /// Reads method, path, headers and the whole body, refusing oversized bodies.
    pub fn read(request: IncomingRequest) -> Result<Self, ApiError> {
        let method = match request.method() {
            Method::Get => "GET".to_string(),
            Method::Head => "HEAD".to_string(),
            Method::Post => "POST".to_string(),
            Method::Put => "PUT".to_string(),
            Method::Delete => "DELETE".to_string(),
            Method::Connect => "CONNECT".to_string(),
            Method::Options => "OPTIONS".to_string(),
            Method::Trace => "TRACE".to_string(),
            Method::Patch => "PATCH".to_string(),
            Method::Other(m) => m.to_ascii_uppercase(),
        };
        let path_with_query = request.path_with_query().unwrap_or_else(|| "/".to_string());
        let (path, query) = match path_with_query.split_once('?') {
            Some((p, q)) => (p.to_string(), parse_query(q)),
            None => (path_with_query, Vec::new()),
        };
        let headers = request
            .headers()
            .entries()
            .into_iter()
            .map(|(name, value)| (name.to_ascii_lowercase(), value))
            .collect::<Vec<_>>();
        let declared = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .and_then(|(_, v)| std::str::from_utf8(v).ok()?.trim().parse::<usize>().ok());
        if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
            return Err(too_large());
        }
        // A request without Content-Length or Transfer-Encoding has no body (RFC 9112 6.3):
        // skipping the read saves a round trip through the host's body stream.
        let has_body = declared.is_some_and(|n| n > 0)
            || headers.iter().any(|(n, _)| n == "transfer-encoding");
        let body = if has_body {
            read_body(&request)?
        } else {
            Vec::new()
        };
        Ok(Self {
            method,
            authority: request.authority(),
            path,
            query,
            headers,
            body,
        })
    }

    /// The `limit` query parameter within `1..=max`, `default` when absent.
    pub fn limit(&self, default: usize, max: usize) -> Result<usize, ApiError> {
        match self.query_param("limit") {
            None => Ok(default),
            Some(s) => s
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| {
                    ApiError::bad_request(format!("limit must be 1 to {max}, got {s:?}"))
                }),
        }
    }

    /// The first value of a header, as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
    }

    /// The first value of a query parameter.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON; an empty body is `null`.
    pub fn json(&self) -> Result<Value, ApiError> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&self.body)
            .map_err(|e| ApiError::bad_request(format!("request body is not valid JSON: {e}")))
    }
}

fn too_large() -> ApiError {
    ApiError::payload_too_large(format!(
        "request body exceeds the limit of {MAX_BODY_BYTES} bytes"
    ))
}

fn read_body(request: &IncomingRequest) -> Result<Vec<u8>, ApiError> {
    let Ok(body) = request.consume() else {
        return Ok(Vec::new());
    };
    let stream = body
        .stream()
        .map_err(|()| ApiError::internal("request body stream unavailable"))?;
    let mut bytes = Vec::new();
    loop {
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => {
                bytes.extend_from_slice(&chunk);
                if bytes.len() > MAX_BODY_BYTES {
                    return Err(too_large());
                }
            }
            Err(StreamError::Closed) => break,
            Err(StreamError::LastOperationFailed(e)) => {
                return Err(ApiError::bad_request(format!(
                    "reading the request body failed: {}",
                    e.to_debug_string()
                )));
            }
        }
    }
    drop(stream);
    Ok(bytes)
}

/// Splits `a=1&b=two` into decoded pairs.
fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// Decodes a query component: `%XX` escapes and `+` as space; invalid escapes stay as
/// they are.
pub fn percent_decode(s: &str) -> String {
    decode(s, true)
}

/// Decodes a path segment: `%XX` escapes only (a `+` in a path is a plus sign).
pub fn percent_decode_path(s: &str) -> String {
    decode(s, false)
}

fn decode(s: &str, plus_is_space: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A response ready to send.
pub struct Response {
    status: u16,
    content_type: &'static str,
    extra_headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    /// A JSON response.
    pub fn json(status: u16, value: &Value) -> Self {
        Self {
            status,
            content_type: "application/json",
            extra_headers: Vec::new(),
            body: serde_json::to_vec(value).unwrap_or_default(),
        }
    }

    /// Raw bytes.
    pub fn bytes(status: u16, content_type: &'static str, body: Vec<u8>) -> Self {
        Self {
            status,
            content_type,
            extra_headers: Vec::new(),
            body,
        }
    }

    /// The JSON error response for `error` (with `Allow` when it names the methods, and
    /// `Retry-After` when it is a 503).
    pub fn error(error: &ApiError) -> Self {
        let mut response = Self::json(error.status, &error.body());
        if let Some(methods) = &error.allow {
            response = response.with_header("allow", methods.clone());
        }
        if error.status == 401 {
            response = response.with_header(
                "www-authenticate",
                marcus_identity::record::CHALLENGE.to_string(),
            );
        }
        match marcus_core::api_error::retry_after(error.status) {
            Some(seconds) => response.with_header("retry-after", seconds.to_string()),
            None => response,
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: String) -> Self {
        self.extra_headers.push((name.to_string(), value));
        self
    }

    /// Writes the response to the outparam.
    pub fn send(self, out: ResponseOutparam) {
        let mut entries: Vec<(String, Vec<u8>)> = vec![
            (
                "content-type".to_string(),
                self.content_type.as_bytes().to_vec(),
            ),
            (
                "content-length".to_string(),
                self.body.len().to_string().into_bytes(),
            ),
        ];
        for (n, v) in self.extra_headers {
            entries.push((n, v.into_bytes()));
        }
        for (n, v) in marcus_core::request_guard::SECURITY_HEADERS {
            entries.push((n.to_string(), v.as_bytes().to_vec()));
        }
        let headers = Fields::from_list(&entries).unwrap_or_else(|_| Fields::new());
        let response = OutgoingResponse::new(headers);
        let _ = response.set_status_code(self.status);
        let Ok(body) = response.body() else {
            return;
        };
        ResponseOutparam::set(out, Ok(response));
        if let Ok(mut stream) = body.write() {
            let _ = stream.write_all(&self.body);
            let _ = stream.flush();
        }
        let _ = OutgoingBody::finish(body, None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_percent_escapes() {
        assert_eq!(percent_decode("a%20b+c"), "a b c");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
        assert_eq!(percent_decode_path("a%3Ab+c"), "a:b+c");
    }
}
