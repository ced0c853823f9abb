//! A browser without a page: a cookie jar per origin and requests that follow no redirect
//! by themselves, so a test walks each hop of a sign-in as a browser would, and can change
//! a hop or stop before one.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::time::Duration;

/// One answer on the way.
#[derive(Debug)]
pub struct Hop {
    /// Its status.
    pub status: u16,
    /// Where it redirects to, made absolute.
    pub location: Option<String>,
    /// Its body as text.
    pub body: String,
    /// Its `Set-Cookie` headers, as sent.
    pub set_cookies: Vec<String>,
}

impl Hop {
    /// The `error.code` of a JSON error body.
    pub fn error_code(&self) -> String {
        serde_json::from_str::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|v| v["error"]["code"].as_str().map(str::to_string))
            .unwrap_or_else(|| format!("(no error code in {:?})", self.body))
    }

    /// The `Set-Cookie` header that sets `name`.
    pub fn set_cookie(&self, name: &str) -> Option<&str> {
        self.set_cookies
            .iter()
            .find(|c| c.starts_with(&format!("{name}=")))
            .map(String::as_str)
    }
}

/// The cookie jar and the client.
pub struct Browserless {
    agent: ureq::Agent,
    jar: HashMap<String, BTreeMap<String, String>>,
}

impl Default for Browserless {
    fn default() -> Self {
        Self::new()
    }
}

/// `scheme://authority` of `url`.
pub fn origin(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("an absolute URL");
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    format!("{scheme}://{authority}")
}

impl Browserless {
    /// An empty jar.
    pub fn new() -> Self {
        Self {
            agent: ureq::AgentBuilder::new()
                .redirects(0)
                .timeout(Duration::from_secs(30))
                .build(),
            jar: HashMap::new(),
        }
    }

    /// The value of cookie `name` held for `url`'s origin.
    pub fn cookie(&self, url: &str, name: &str) -> Option<String> {
        self.jar.get(&origin(url))?.get(name).cloned()
    }

    /// Puts cookie `name` into the jar for `url`'s origin.
    pub fn set_cookie(&mut self, url: &str, name: &str, value: &str) {
        self.jar
            .entry(origin(url))
            .or_default()
            .insert(name.into(), value.into());
    }

    /// `GET url`.
    pub fn get(&mut self, url: &str) -> Hop {
        self.send("GET", url, None, &[])
    }

    /// `POST url` with a form.
    pub fn post_form(&mut self, url: &str, form: &[(&str, &str)]) -> Hop {
        self.send("POST", url, Some(form), &[])
    }

    /// Sends a request with the jar's cookies for its origin and keeps the cookies it sets.
    pub fn send(
        &mut self,
        method: &str,
        url: &str,
        form: Option<&[(&str, &str)]>,
        headers: &[(&str, &str)],
    ) -> Hop {
        let here = origin(url);
        let mut request = self.agent.request(method, url);
        if let Some(cookies) = self.jar.get(&here).filter(|c| !c.is_empty()) {
            let header: Vec<String> = cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            request = request.set("cookie", &header.join("; "));
        }
        for (k, v) in headers {
            request = request.set(k, v);
        }
        let result = match form {
            Some(form) => request.send_form(form),
            None => request.call(),
        };
        let response = match result {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{method} {url}: {e}"),
        };
        let set_cookies: Vec<String> = response
            .all("set-cookie")
            .into_iter()
            .map(str::to_string)
            .collect();
        let jar = self.jar.entry(here.clone()).or_default();
        for cookie in &set_cookies {
            let pair = cookie.split(';').next().unwrap_or_default();
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            let removed =
                cookie.contains("Max-Age=0") || cookie.contains("expires=Thu, 01 Jan 1970");
            if removed || value.is_empty() {
                jar.remove(name.trim());
            } else {
                jar.insert(name.trim().into(), value.into());
            }
        }
        let location = response.header("location").map(|l| {
            if l.starts_with('/') {
                format!("{here}{l}")
            } else {
                l.to_string()
            }
        });
        let status = response.status();
        let mut body = String::new();
        let _ = response
            .into_reader()
            .take(4 << 20)
            .read_to_string(&mut body);
        Hop {
            status,
            location,
            body,
            set_cookies,
        }
    }
}
