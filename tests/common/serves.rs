//! One way to put a request to any server the suites drive (a native `marcus`, a URL, the
//! Spin stand-in), and the board tools over it, so a walk or a race is written once.

use super::{Answer, Marcus};
use serde_json::Value;
use std::time::Duration;

/// One HTTP exchange: (status, headers in lower case, body).
pub type Exchange = (u16, Vec<(String, String)>, String);

/// Something that answers HTTP requests the way Marcus does.
pub trait Serves: Sync {
    /// Sends one request with a JSON body (when not empty).
    fn exchange(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Exchange;
}

impl Serves for Marcus {
    fn exchange(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Exchange {
        let mut all = headers.to_vec();
        let body = (!body.is_empty()).then(|| {
            all.push(("content-type", "application/json"));
            body.as_bytes()
        });
        let a = self.request(method, path, &all, body);
        let text = String::from_utf8_lossy(&a.body).into_owned();
        (a.status, a.headers, text)
    }
}

/// A server at a base URL (a real `spin up`).
pub struct AtUrl(pub String);

impl Serves for AtUrl {
    fn exchange(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Exchange {
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(30))
            .build();
        let mut req = agent.request(method, &format!("{}{path}", self.0));
        for (k, v) in headers {
            req = req.set(k, v);
        }
        let result = if body.is_empty() {
            req.call()
        } else {
            req.set("content-type", "application/json")
                .send_string(body)
        };
        let resp = match result {
            Ok(r) | Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{method} {path}: {e} (a request that never answers times out)"),
        };
        let status = resp.status();
        let headers = resp
            .headers_names()
            .into_iter()
            .filter_map(|n| Some((n.to_ascii_lowercase(), resp.header(&n)?.to_string())))
            .collect();
        (status, headers, resp.into_string().unwrap_or_default())
    }
}

/// Sends one request (a JSON body when not empty) to any server and returns the reply as an
/// [`Answer`], so a suite written against Marcus's answers runs on every server unchanged.
pub fn answer(
    server: &dyn Serves,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Answer {
    let (status, headers, body) = server.exchange(method, path, headers, body);
    let content_type = headers
        .iter()
        .find(|(name, _)| name == "content-type")
        .map(|(_, v)| v.split(';').next().unwrap_or("").trim().to_string())
        .unwrap_or_default();
    Answer {
        status,
        content_type,
        body: body.into_bytes(),
        headers,
    }
}

/// Calls `/api/tools/{name}`; (status, JSON body).
pub fn tool(server: &dyn Serves, name: &str, args: Value) -> (u16, Value) {
    let (status, _, body) = server.exchange(
        "POST",
        &format!("/api/tools/{name}"),
        &[],
        &args.to_string(),
    );
    let value = serde_json::from_str(&body)
        .unwrap_or_else(|e| panic!("{name} answered {status} with non-JSON ({e}): {body}"));
    (status, value)
}

/// Calls a tool that must answer 200.
pub fn ok(server: &dyn Serves, name: &str, args: Value) -> Value {
    let (status, body) = tool(server, name, args);
    assert_eq!(status, 200, "{name}: {body}");
    body
}
