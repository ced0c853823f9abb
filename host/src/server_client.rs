//! A client of a running Marcus server, for the commands that talk to one (`marcus mcp`,
//! `marcus status`, `marcus doctor`): one HTTP/1.1 exchange per connection, plain or TLS,
//! with the access token sent as a bearer credential and never shown in messages.

use bytes::Bytes;
use http::header::{AUTHORIZATION, HOST, HeaderMap, HeaderName, HeaderValue};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use std::time::Duration;
use tokio::net::TcpStream;

/// How long opening a connection may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a whole exchange may take unless the caller says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Where a server is and how to sign in to it.
#[derive(Clone)]
pub struct ServerClient {
    tls: bool,
    host: String,
    port: u16,
    authority: String,
    base_path: String,
    url: String,
    token: Option<String>,
    timeout: Duration,
}

impl std::fmt::Debug for ServerClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerClient")
            .field("url", &self.url)
            .field("token", &self.token.as_ref().map(|_| "<set>"))
            .finish()
    }
}

/// A server's answer: status, headers and the whole body.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl Reply {
    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The content type without parameters, in lower case (empty when absent).
    pub fn content_type(&self) -> String {
        self.header("content-type")
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    }

    /// A readable account of a refusal: the status and, for Marcus's JSON errors, their
    /// message; a hint when credentials are missing or not enough.
    pub fn refusal(&self) -> String {
        let reason = http::StatusCode::from_u16(self.status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("");
        let said = serde_json::from_slice::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
            .unwrap_or_else(|| {
                let text = String::from_utf8_lossy(&self.body[..self.body.len().min(200)]);
                text.split_whitespace().collect::<Vec<_>>().join(" ")
            });
        let hint = match self.status {
            401 => " (pass --token or set MARCUS_TOKEN)",
            403 => " (the token's role does not allow this)",
            _ => "",
        };
        if said.is_empty() {
            format!("{} {reason}{hint}", self.status)
        } else {
            format!("{} {reason}: {said}{hint}", self.status)
        }
    }
}

/// Why an exchange failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExchangeError {
    /// Nothing accepted a connection there (refused, unresolvable, timed out connecting).
    Unreachable(String),
    /// A connection was made but the exchange failed or took too long.
    Failed(String),
}

impl std::fmt::Display for ExchangeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unreachable(why) | Self::Failed(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for ExchangeError {}

impl ServerClient {
    /// A client of the server at `url` (`http://` or `https://`, optionally with a path
    /// prefix); `token`, when given, goes with every request.
    pub fn new(url: &str, token: Option<String>) -> anyhow::Result<Self> {
        let uri: http::Uri = url
            .trim_end_matches('/')
            .parse()
            .map_err(|e| anyhow::anyhow!("{url:?} is not a URL: {e}"))?;
        let tls = match uri.scheme_str() {
            Some("http") => false,
            Some("https") => true,
            _ => anyhow::bail!("{url:?}: the server URL must start with http:// or https://"),
        };
        let authority = uri
            .authority()
            .ok_or_else(|| anyhow::anyhow!("{url:?} names no host"))?;
        if authority.as_str().contains('@') {
            anyhow::bail!("{url:?}: put credentials in --token (MARCUS_TOKEN), not in the URL");
        }
        if uri.query().is_some() {
            anyhow::bail!("{url:?}: the server URL takes no query string");
        }
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let port = authority.port_u16().unwrap_or(if tls { 443 } else { 80 });
        let base_path = uri.path().trim_end_matches('/').to_string();
        if let Some(token) = &token {
            HeaderValue::from_str(&format!("Bearer {token}"))
                .map_err(|_| anyhow::anyhow!("the token holds characters a header cannot carry"))?;
        }
        Ok(Self {
            tls,
            host,
            port,
            authority: authority.as_str().to_string(),
            url: format!(
                "{}://{}{base_path}",
                if tls { "https" } else { "http" },
                authority.as_str()
            ),
            base_path,
            token: token.filter(|t| !t.is_empty()),
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// The same client with another limit on a whole exchange.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The server's base URL (without credentials), for messages.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Sends `method path` with `headers` and `body` and reads the whole answer; 4xx and 5xx
    /// are answers, not errors.
    pub async fn send(
        &self,
        method: http::Method,
        path: &str,
        headers: &[(HeaderName, HeaderValue)],
        body: Bytes,
    ) -> Result<Reply, ExchangeError> {
        let exchange = async {
            let response = self.response_head(method, path, headers, body).await?;
            let status = response.status().as_u16();
            let (parts, body) = response.into_parts();
            let body = body
                .collect()
                .await
                .map_err(|e| self.failed(&e))?
                .to_bytes();
            Ok(Reply {
                status,
                headers: parts.headers,
                body,
            })
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| self.too_slow())?
    }

    /// Sends `GET path` and returns the answer as soon as its head is there, its body still
    /// arriving (an event stream); only connecting and the head are under the timeout.
    pub async fn open_stream(
        &self,
        path: &str,
        headers: &[(HeaderName, HeaderValue)],
    ) -> Result<hyper::Response<hyper::body::Incoming>, ExchangeError> {
        tokio::time::timeout(
            self.timeout,
            self.response_head(http::Method::GET, path, headers, Bytes::new()),
        )
        .await
        .map_err(|_| self.too_slow())?
    }

    /// Connects, sends the request and waits for the response head.
    async fn response_head(
        &self,
        method: http::Method,
        path: &str,
        headers: &[(HeaderName, HeaderValue)],
        body: Bytes,
    ) -> Result<hyper::Response<hyper::body::Incoming>, ExchangeError> {
        let stream = self.connect().await?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(stream)
            .await
            .map_err(|e| self.failed(&e))?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        let mut request = hyper::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base_path))
            .header(HOST, &self.authority);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        if let Some(token) = &self.token {
            let mut value = HeaderValue::from_str(&format!("Bearer {token}"))
                .map_err(|_| ExchangeError::Failed("the token is not a header value".into()))?;
            value.set_sensitive(true);
            request = request.header(AUTHORIZATION, value);
        }
        let request = request
            .body(Full::new(body))
            .map_err(|e| ExchangeError::Failed(format!("building the request: {e}")))?;
        sender
            .send_request(request)
            .await
            .map_err(|e| self.failed(&e))
    }

    fn too_slow(&self) -> ExchangeError {
        ExchangeError::Failed(format!(
            "{} did not answer within {} s",
            self.url,
            self.timeout.as_secs()
        ))
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Result<Reply, ExchangeError> {
        self.send(http::Method::GET, path, &[], Bytes::new()).await
    }

    fn failed(&self, e: &hyper::Error) -> ExchangeError {
        ExchangeError::Failed(format!("exchange with {} failed: {e}", self.url))
    }

    /// A connection to the server, through TLS for `https://`.
    async fn connect(&self) -> Result<TokioIo<Box<dyn Connection>>, ExchangeError> {
        let unreachable = |why: String| {
            ExchangeError::Unreachable(format!("cannot reach Marcus at {}: {why}", self.url))
        };
        let tcp = tokio::time::timeout(
            CONNECT_TIMEOUT,
            TcpStream::connect((self.host.as_str(), self.port)),
        )
        .await
        .map_err(|_| {
            unreachable(format!(
                "no connection within {} s",
                CONNECT_TIMEOUT.as_secs()
            ))
        })?
        .map_err(|e| unreachable(e.to_string()))?;
        let _ = tcp.set_nodelay(true);
        if !self.tls {
            return Ok(TokioIo::new(Box::new(tcp)));
        }
        let name = rustls::pki_types::ServerName::try_from(self.host.clone())
            .map_err(|e| unreachable(format!("{:?} is not a TLS server name: {e}", self.host)))?;
        let tls = tokio::time::timeout(
            CONNECT_TIMEOUT,
            crate::outbound_http::tls_connector().connect(name, tcp),
        )
        .await
        .map_err(|_| unreachable("no TLS handshake within the connect timeout".into()))?
        .map_err(|e| unreachable(format!("TLS: {e}")))?;
        Ok(TokioIo::new(Box::new(tls)))
    }
}

/// A byte stream to the server, plain or TLS.
trait Connection: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static {}
impl<T> Connection for T where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static
{
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_and_credentials_stay_out_of_them() {
        let c = ServerClient::new("http://127.0.0.1:4298/", None).unwrap();
        assert_eq!(c.url(), "http://127.0.0.1:4298");
        assert_eq!((c.host.as_str(), c.port, c.tls), ("127.0.0.1", 4298, false));
        let c = ServerClient::new("https://marcus.example/board", Some("t".into())).unwrap();
        assert_eq!((c.port, c.tls, c.base_path.as_str()), (443, true, "/board"));
        assert!(!format!("{c:?}").contains("\"t\""));
        let c = ServerClient::new("http://[::1]:9/", None).unwrap();
        assert_eq!(c.host, "::1");
        for bad in [
            "localhost:4298",
            "ftp://h",
            "http://u:p@h",
            "http://h?x=1",
            "nonsense url",
        ] {
            assert!(ServerClient::new(bad, None).is_err(), "{bad}");
        }
        assert!(ServerClient::new("http://h", Some("a\nb".into())).is_err());
    }

    #[test]
    fn refusals_say_the_status_the_message_and_what_to_do() {
        let reply = |status, body: &str| Reply {
            status,
            headers: HeaderMap::new(),
            body: Bytes::from(body.to_string()),
        };
        let r = reply(
            401,
            r#"{"error": {"code": "unauthorized", "message": "credentials required"}}"#,
        );
        assert_eq!(
            r.refusal(),
            "401 Unauthorized: credentials required (pass --token or set MARCUS_TOKEN)"
        );
        assert_eq!(
            reply(502, "<html>\n bad gateway </html>").refusal(),
            "502 Bad Gateway: <html> bad gateway </html>"
        );
        assert_eq!(reply(503, "").refusal(), "503 Service Unavailable");
    }
}
