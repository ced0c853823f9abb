//! Outgoing HTTP for the app's webhook deliveries, under the destination rule.
//!
//! A delivery URL is chosen by whoever subscribes, so sending it as given would let anyone
//! with API access make the server talk to its own networks (Redis on loopback, a cloud
//! metadata service, private hosts). Here the host resolves the name itself, checks every
//! address it got against the rule in `marcus_core::webhooks::destination`, and connects only
//! to an address it checked: a name that resolves differently between the check and the
//! connection (DNS rebinding) never gets through. The HTTP exchange itself follows
//! wasmtime-wasi-http's `default_send_request` (plain or TLS with webpki roots, the guest's
//! timeouts), connected to the vetted address but naming the original host for TLS.

use bytes::Bytes;
use core::future::poll_fn;
use core::pin::{Pin, pin};
use core::task::{Context, Poll, ready};
use http::uri::Scheme;
use hyper::body::{Body, Frame, SizeHint};
use hyper_util::rt::TokioIo;
use marcus_core::webhooks::destination::{self, AllowList, Host};
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody};

/// The timeout used when the guest sets none (the guest's deadline still bounds it).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The `wasi:http` hooks of a request's store: deliveries go out through [`send_vetted`]
/// with the operator's allow-list.
pub struct OutboundHttp {
    allow: Arc<AllowList>,
}

impl OutboundHttp {
    /// Hooks that allow public destinations and those `allow` names.
    pub fn new(allow: Arc<AllowList>) -> Self {
        Self { allow }
    }
}

type IoFuture = Box<dyn Future<Output = Result<(), Error>> + Send>;

impl wasmtime_wasi_http::WasiHttpHooks for OutboundHttp {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _fut: IoFuture,
    ) -> Box<dyn Future<Output = Result<(http::Response<WasiBody>, IoFuture), Error>> + Send> {
        let allow = self.allow.clone();
        Box::new(async move {
            use http_body_util::BodyExt;
            let (response, io) = send_vetted(request, options, &allow).await?;
            Ok((
                response.map(BodyExt::boxed_unsync),
                Box::new(io) as IoFuture,
            ))
        })
    }
}

trait Stream: AsyncRead + AsyncWrite + Send + Sync + Unpin + 'static {}
impl<T> Stream for T where T: AsyncRead + AsyncWrite + Send + Sync + Unpin + 'static {}

/// Sends `req` to a checked address of its host, or refuses with `DestinationIpProhibited`
/// before any connection is made.
pub async fn send_vetted(
    mut req: http::Request<WasiBody>,
    options: Option<RequestOptions>,
    allow: &AllowList,
) -> Result<
    (
        http::Response<impl Body<Data = Bytes, Error = Error> + use<>>,
        impl Future<Output = Result<(), Error>> + Send + use<>,
    ),
    Error,
> {
    let uri = req.uri();
    let authority = uri.authority().ok_or(Error::HttpRequestUriInvalid)?;
    let use_tls = uri.scheme() == Some(&Scheme::HTTPS);
    let port = authority
        .port_u16()
        .unwrap_or(if use_tls { 443 } else { 80 });
    let host = Host::parse(authority.host());
    let connect_timeout = options
        .and_then(|o| o.connect_timeout)
        .unwrap_or(DEFAULT_TIMEOUT);
    let first_byte_timeout = options
        .and_then(|o| o.first_byte_timeout)
        .unwrap_or(DEFAULT_TIMEOUT);
    let between_bytes_timeout = options
        .and_then(|o| o.between_bytes_timeout)
        .unwrap_or(DEFAULT_TIMEOUT);

    let addresses = vetted_addresses(&host, port, allow, connect_timeout).await?;
    let tcp = connect_any(&addresses, connect_timeout).await?;
    let _ = tcp.set_nodelay(true);
    let stream: Box<dyn Stream> = if use_tls {
        let server_name = match &host {
            Host::Ip(ip) => rustls::pki_types::ServerName::from(*ip),
            Host::Name(name) => rustls::pki_types::ServerName::try_from(name.clone())
                .map_err(|_| Error::HttpRequestUriInvalid)?,
        };
        let handshake = tls_connector().connect(server_name, tcp);
        match tokio::time::timeout(connect_timeout, handshake).await {
            Ok(Ok(tls)) => Box::new(tls),
            Ok(Err(e)) => return Err(tls_error(&e)),
            Err(_) => return Err(Error::ConnectionTimeout),
        }
    } else {
        Box::new(tcp)
    };
    let (mut sender, conn) = tokio::time::timeout(
        connect_timeout,
        hyper::client::conn::http1::Builder::new().handshake(TokioIo::new(stream)),
    )
    .await
    .map_err(|_| Error::ConnectionTimeout)??;

    // The request line carries only the path; the Host header names the host.
    *req.uri_mut() = http::Uri::builder()
        .path_and_query(
            req.uri()
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/"),
        )
        .build()
        .map_err(|_| Error::HttpRequestUriInvalid)?;

    let send = async move {
        let res = tokio::time::timeout(first_byte_timeout, sender.send_request(req))
            .await
            .map_err(|_| Error::ConnectionReadTimeout)?
            .map_err(Error::from)?;
        let mut timeout = tokio::time::interval(between_bytes_timeout.max(Duration::from_nanos(1)));
        timeout.reset();
        Ok(res.map(|incoming| TimedBody { incoming, timeout }))
    };
    let mut send = pin!(send);
    let mut conn = Some(conn);
    // Drive the connection while waiting for the answer's head.
    let res = poll_fn(|cx| match send.as_mut().poll(cx) {
        Poll::Ready(done) => Poll::Ready(done),
        Poll::Pending => {
            let Some(fut) = conn.as_mut() else {
                return Poll::Pending;
            };
            let ended = ready!(Pin::new(fut).poll(cx));
            conn = None;
            match ended {
                Ok(()) => send.as_mut().poll(cx),
                Err(e) => Poll::Ready(Err(Error::from(e))),
            }
        }
    })
    .await?;
    Ok((res, async move {
        let Some(conn) = conn.take() else {
            return Ok(());
        };
        conn.await.map_err(|e| {
            if e.is_timeout() {
                Error::HttpResponseTimeout
            } else {
                Error::from(e)
            }
        })
    }))
}

/// The addresses a delivery may connect to: the literal address, or every address the name
/// resolves to that the rule allows. None allowed is a refusal (logged with the host and
/// port only: paths and queries may carry secrets).
async fn vetted_addresses(
    host: &Host,
    port: u16,
    allow: &AllowList,
    timeout: Duration,
) -> Result<Vec<SocketAddr>, Error> {
    let (resolved, name) = match host {
        Host::Ip(ip) => (vec![SocketAddr::new(*ip, port)], None),
        Host::Name(name) => {
            let lookup = tokio::net::lookup_host((name.as_str(), port));
            let found = match tokio::time::timeout(timeout, lookup).await {
                Ok(Ok(found)) => found.collect::<Vec<_>>(),
                Ok(Err(_)) => {
                    return Err(Error::DnsError {
                        rcode: None,
                        info_code: None,
                    });
                }
                Err(_) => return Err(Error::DnsTimeout),
            };
            (found, Some(name.as_str()))
        }
    };
    let mut refused = None;
    let allowed: Vec<SocketAddr> = resolved
        .into_iter()
        .filter(
            |addr| match destination::refusal(addr.ip(), port, name, allow) {
                None => true,
                Some(why) => {
                    refused.get_or_insert(why);
                    false
                }
            },
        )
        .collect();
    if allowed.is_empty() {
        let prohibited = refused.is_some();
        let why = refused.unwrap_or_else(|| "the name has no addresses".into());
        let shown = match host {
            Host::Ip(ip) => ip.to_string(),
            Host::Name(n) => n.clone(),
        };
        tracing::warn!(host = %shown, port, "webhook destination refused: {why}");
        metrics::counter!("marcus_webhook_destinations_refused_total").increment(1);
        return Err(if prohibited {
            Error::DestinationIpProhibited
        } else {
            Error::DestinationNotFound
        });
    }
    Ok(allowed)
}

/// Connects to the first address that answers, all within `timeout`.
async fn connect_any(addresses: &[SocketAddr], timeout: Duration) -> Result<TcpStream, Error> {
    let attempt = async {
        let mut last = Error::DestinationUnavailable;
        for addr in addresses {
            match TcpStream::connect(addr).await {
                Ok(stream) => return Ok(stream),
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                    last = Error::ConnectionRefused;
                }
                Err(_) => last = Error::DestinationUnavailable,
            }
        }
        Err(last)
    };
    tokio::time::timeout(timeout, attempt)
        .await
        .map_err(|_| Error::ConnectionTimeout)?
}

/// One TLS client configuration for the process: webpki roots, no client certificate.
pub(crate) fn tls_connector() -> tokio_rustls::TlsConnector {
    static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    let config = CONFIG.get_or_init(|| {
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.into(),
        };
        Arc::new(
            rustls::ClientConfig::builder()
                .with_root_certificates(roots)
                .with_no_client_auth(),
        )
    });
    tokio_rustls::TlsConnector::from(config.clone())
}

/// A failed handshake: the certificate's fault or the protocol's.
fn tls_error(e: &std::io::Error) -> Error {
    let certificate = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .is_some_and(|r| {
            matches!(
                r,
                rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented
            )
        });
    if certificate {
        Error::TlsCertificateError
    } else {
        Error::TlsProtocolError
    }
}

/// The answer's body with the guest's between-bytes timeout.
struct TimedBody {
    incoming: hyper::body::Incoming,
    timeout: tokio::time::Interval,
}

impl Body for TimedBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        match Pin::new(&mut self.incoming).poll_frame(cx) {
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(if e.is_timeout() {
                Error::HttpResponseTimeout
            } else {
                Error::from(e)
            }))),
            Poll::Ready(Some(Ok(frame))) => {
                self.timeout.reset();
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Pending => {
                ready!(self.timeout.poll_tick(cx));
                Poll::Ready(Some(Err(Error::ConnectionReadTimeout)))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.incoming.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.incoming.size_hint()
    }
}
