//! What the sign-in routes answer: a JSON document or error, or a redirect, with the
//! cookies to set. Browsers follow these routes, so every answer also forbids caching.

use hyper::header::{CACHE_CONTROL, HeaderValue, LOCATION, SET_COOKIE};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// A sign-in route's answer (boxed: refusals travel as the error of most steps).
pub struct Answer {
    response: Box<hyper::Response<HyperOutgoingBody>>,
}

impl Answer {
    /// `{"error": {"code", "message"}}` with `status`.
    pub fn error(status: u16, code: &str, message: &str) -> Self {
        Self {
            response: Box::new(crate::json_error::response(status, code, message)),
        }
    }

    /// The answer's status code.
    pub fn status(&self) -> u16 {
        self.response.status().as_u16()
    }

    /// A JSON document with `status`.
    pub fn json(status: u16, document: &serde_json::Value) -> Self {
        Self {
            response: Box::new(crate::json_error::json(status, document)),
        }
    }

    /// An XML document (`200`), such as metadata.
    pub fn xml(document: &str) -> Self {
        use http_body_util::BodyExt;
        let response = hyper::Response::builder()
            .status(200)
            .header("content-type", "application/samlmetadata+xml")
            .body(
                http_body_util::Full::new(bytes::Bytes::from(document.to_string()))
                    .map_err(|never| match never {})
                    .boxed_unsync(),
            )
            .expect("static response parts are valid");
        Self {
            response: Box::new(response),
        }
    }

    /// `302 Found` to `location`.
    pub fn redirect(location: &str) -> Self {
        let mut response =
            crate::json_error::json(302, &serde_json::json!({ "location": location }));
        if let Ok(v) = HeaderValue::from_str(location) {
            response.headers_mut().insert(LOCATION, v);
        }
        Self {
            response: Box::new(response),
        }
    }

    /// The answer with a `Set-Cookie` header added.
    pub fn with_cookie(mut self, cookie: HeaderValue) -> Self {
        self.response.headers_mut().append(SET_COOKIE, cookie);
        self
    }

    /// The HTTP response.
    pub fn into_response(mut self) -> hyper::Response<HyperOutgoingBody> {
        self.response
            .headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        *self.response
    }
}
