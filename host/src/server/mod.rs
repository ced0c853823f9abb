//! The HTTP server: accepts connections within the cap, answers the host's own paths (see
//! [`host_routes`]) and hands every other request to the app, then drains in-flight requests
//! when `shutdown` resolves. It takes a bound listener and a shutdown future, so `serve` and
//! tests drive the same code.

pub mod accept_errors;
pub mod host_routes;
pub mod request_metrics;

use crate::connection_cap::{Admission, Admitted, ConnectionCap};
use crate::guest_call::GuestRunner;
use crate::health::{self, Health};
use crate::metrics::route_label::route_label;
use crate::platform::Platform;
use crate::rate_limit::{Budget, FAILED_CREDENTIALS_COST};
use crate::{json_error, push, request_id};
use accept_errors::AcceptErrors;
use bytes::Bytes;
use host_routes::{HostRoute, host_route};
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use marcus_core::request_guard::GuardPolicy;
use marcus_identity::principal::{Principal, Verification};
use marcus_identity::record::Rejected;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tracing::Instrument as _;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// How long in-flight requests may take to finish after shutdown begins.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// What every request of a server shares.
pub struct Server {
    /// Runs the app component.
    pub runner: Arc<GuestRunner>,
    /// Probes and scrape-time gauges.
    pub health: Arc<Health>,
    /// The backends.
    pub platform: Arc<Platform>,
    /// The browser protections' policy.
    pub guard: Arc<GuardPolicy>,
    /// The connection cap.
    pub connections: Arc<ConnectionCap>,
    /// How long a request head may take to arrive (idle keep-alive connections included).
    pub header_timeout: Duration,
    /// Verifies each request's credentials before anything else serves it.
    pub auth: Arc<crate::auth::Authenticator>,
    /// Request budgets per principal and per client address.
    pub limits: Arc<crate::rate_limit::RateLimits>,
    /// People's single sign-on.
    pub sso: Arc<crate::sso::SsoService>,
}

type Response = hyper::Response<HyperOutgoingBody>;

impl Server {
    /// Serves `listener` until `shutdown` resolves, then stops accepting, ends the push
    /// streams and waits (at most [`SHUTDOWN_GRACE`]) for in-flight requests.
    pub async fn serve(self, listener: TcpListener, shutdown: impl Future<Output = ()>) {
        let server = Arc::new(self);
        let mut accept_errors = AcceptErrors::default();
        // Every connection task holds a sender; when all are gone, shutdown is complete.
        let (open_connections, mut all_closed) = tokio::sync::mpsc::channel::<()>(1);
        // Long-lived push streams end when this flips, so shutdown does not wait on them.
        let (stop_push, push_stopped) = tokio::sync::watch::channel(false);
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let (stream, peer) = match accepted {
                        Ok(a) => a,
                        Err(e) => {
                            accept_errors.pause_after(&e).await;
                            continue;
                        }
                    };
                    let _ = stream.set_nodelay(true);
                    let stream = match server.connections.admit() {
                        Admission::Serve(place) => Admitted::new(stream, place),
                        Admission::Refuse(place) => {
                            tokio::spawn(crate::over_capacity::refuse(
                                Admitted::new(stream, place),
                                server.health.clone(),
                            ));
                            continue;
                        }
                        Admission::Close => {
                            metrics::counter!("marcus_connections_refused_total", "answer" => "closed")
                                .increment(1);
                            drop(stream);
                            continue;
                        }
                    };
                    let open = open_connections.clone();
                    tokio::spawn(server.clone().connection(stream, peer, push_stopped.clone(), open));
                }
                _ = shutdown.as_mut() => break,
            }
        }
        drop(listener);
        let _ = stop_push.send(true);
        drop(open_connections);
        if tokio::time::timeout(SHUTDOWN_GRACE, all_closed.recv())
            .await
            .is_err()
        {
            tracing::warn!(
                "in-flight requests still running after {SHUTDOWN_GRACE:?}; closing anyway"
            );
        }
    }

    /// Serves one connection until it ends or shutdown begins (then it finishes its request
    /// and closes).
    async fn connection(
        self: Arc<Self>,
        stream: Admitted<tokio::net::TcpStream>,
        peer: std::net::SocketAddr,
        push_stopped: tokio::sync::watch::Receiver<bool>,
        _open: tokio::sync::mpsc::Sender<()>,
    ) {
        let mut stopping = push_stopped.clone();
        let server = self.clone();
        // The header timer runs from when hyper waits for a request head (on a new
        // connection, and after each response), so it also closes idle keep-alive
        // connections.
        let conn = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(self.header_timeout)
            .keep_alive(true)
            .serve_connection(
                TokioIo::new(stream),
                service_fn(move |req| {
                    let server = server.clone();
                    let push_stopped = push_stopped.clone();
                    async move {
                        Ok::<_, std::convert::Infallible>(
                            server.request(req, peer, push_stopped).await,
                        )
                    }
                }),
            )
            .with_upgrades();
        let mut conn = std::pin::pin!(conn);
        let ended = tokio::select! {
            ended = conn.as_mut() => ended,
            _ = stopping.changed() => {
                conn.as_mut().graceful_shutdown();
                conn.await
            }
        };
        if let Err(e) = ended {
            if e.is_timeout() {
                metrics::counter!("marcus_header_timeouts_total").increment(1);
            }
            tracing::debug!(%peer, "connection ended: {e}");
        }
    }

    /// Answers one request: the browser protections, then a host route or the app; every
    /// answer gets the request id, the security headers and its metrics.
    async fn request(
        &self,
        mut req: hyper::Request<hyper::body::Incoming>,
        peer: std::net::SocketAddr,
        push_stopped: tokio::sync::watch::Receiver<bool>,
    ) -> Response {
        let started = Instant::now();
        let method = req.method().clone();
        let route = route_label(req.uri().path());
        let request_id = request_id::ensure(&mut req);
        let span = tracing::info_span!("request", id = %request_id, %method, %route);
        let refusal = crate::browser_guard::refuse(&self.guard, &req);
        let audit = crate::audit::RequestAudit::new(marcus_core::audit::RequestInfo {
            id: request_id.to_string(),
            client: peer.ip().to_string(),
            user_agent: req
                .headers()
                .get(hyper::header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .chars()
                .take(256)
                .collect(),
            method: method.to_string(),
            path: req.uri().path().chars().take(1024).collect(),
        });
        let answer = async {
            if let Some(refusal) = refusal {
                return refusal;
            }
            let principal = match self.auth.authenticate(&method, req.headers()).await {
                Ok(principal) => {
                    audit.set_principal(principal.clone());
                    principal
                }
                Err(refusal) => {
                    // A refused credential spends more of its address's budget.
                    let spent = self
                        .limits
                        .spend(Budget::Address(peer.ip()), FAILED_CREDENTIALS_COST)
                        .await;
                    return match spent {
                        Some(verdict) if verdict.refused() => verdict.refusal(),
                        _ => *refusal,
                    };
                }
            };
            let verdict = match Budget::of(principal.as_ref(), peer.ip()) {
                Some(budget) => self.limits.spend(budget, 1).await,
                None => None,
            };
            if let Some(verdict) = verdict.filter(|v| v.refused()) {
                return verdict.refusal();
            }
            if let Some(p) = &principal
                && let Some(refusal) = self.tenant_budget(&p.tenant).await
            {
                return refusal;
            }
            let by_provider = principal
                .as_ref()
                .is_some_and(|p| p.verified_by == Verification::Oidc);
            let mut response = match host_route(&method, req.uri().path()) {
                Some(route) => match host_access(
                    &self.auth,
                    route,
                    &method,
                    req.uri().path(),
                    principal.as_ref(),
                ) {
                    Ok(()) => {
                        self.host(route, req, principal.as_ref(), push_stopped)
                            .await
                    }
                    Err(refusal) => *refusal,
                },
                None => self.runner.serve(req, principal).await,
            };
            self.auth.challenge_refusal(&mut response, by_provider);
            if let Some(verdict) = verdict {
                verdict.annotate(&mut response);
            }
            response
        }
        .instrument(span);
        let storage = self.platform.storage.clone();
        let owing = audit.clone();
        let changes_state = !matches!(method.as_str(), "GET" | "HEAD" | "OPTIONS");
        let mut response = audit
            .clone()
            .run(async move {
                let response = answer.await;
                // A refusal, or a failed change the request wrote no record of, is recorded
                // now, by the layer that saw who asked.
                if let Some(action) = owing.owed(response.status().as_u16(), changes_state) {
                    crate::audit::record(&*storage, &owing.tenant(), None, action).await;
                }
                response
            })
            .await;
        request_id::echo(&mut response, &request_id);
        crate::browser_guard::secure(&mut response);
        request_metrics::record(&route, &method, started, &response);
        response
    }

    /// `429 tenant_rate_limited` when the tenant's requests-per-minute quota is spent: from
    /// the window every host shares through Redis, else from this host's budget.
    async fn tenant_budget(&self, tenant: &str) -> Option<Response> {
        let quotas = &self.platform.quotas;
        let per_minute = match quotas.requests_per_minute(tenant).await {
            Ok(Some(n)) => n,
            Ok(None) => return None,
            Err(e) => return Some(json_error::response(503, "unavailable", &e.to_string())),
        };
        let wait_s = match self.limits.spend_tenant(tenant, per_minute).await {
            Some(verdict) => verdict.retry_after_s?,
            None => match quotas.spend_here(tenant, per_minute) {
                Ok(Ok(())) => return None,
                Ok(Err(wait_s)) => wait_s,
                Err(e) => return Some(json_error::response(503, "unavailable", &e.to_string())),
            },
        };
        let mut refusal = json_error::response(
            429,
            "tenant_rate_limited",
            &format!(
                "tenant {tenant:?} has used its {per_minute} requests for this minute; retry in {wait_s} s"
            ),
        );
        if let Ok(v) = hyper::header::HeaderValue::from_str(&wait_s.to_string()) {
            refusal.headers_mut().insert(hyper::header::RETRY_AFTER, v);
        }
        Some(refusal)
    }

    /// Answers a path the host owns.
    async fn host(
        &self,
        route: HostRoute,
        req: hyper::Request<hyper::body::Incoming>,
        principal: Option<&Principal>,
        push_stopped: tokio::sync::watch::Receiver<bool>,
    ) -> Response {
        let realtime = self.platform.realtime.clone();
        // Push streams carry the principal's tenant's channels only (host_access let
        // through only principals for them).
        let tenant = principal
            .map(|p| p.tenant.clone())
            .unwrap_or_else(|| marcus_identity::tenant::DEFAULT_TENANT.to_string());
        match route {
            HostRoute::WrongMethod => json_error::method_not_allowed(req.uri().path(), "GET"),
            HostRoute::AdminTokens => {
                let method = req.method().clone();
                let path = req.uri().path().to_string();
                match crate::auth::admin_api::read_body(req, self.runner.body_timeout).await {
                    Ok(body) => {
                        crate::auth::admin_api::serve(
                            &method,
                            &path,
                            body,
                            &*self.platform.storage,
                            principal,
                        )
                        .await
                    }
                    Err(refusal) => refusal,
                }
            }
            HostRoute::AdminTenants => {
                let method = req.method().clone();
                let path = req.uri().path().to_string();
                match crate::auth::admin_api::read_body(req, self.runner.body_timeout).await {
                    Ok(body) => {
                        crate::tenants::admin_api::serve(
                            &method,
                            &path,
                            &body,
                            &*self.platform.storage,
                            &self.auth.tenants,
                        )
                        .await
                    }
                    Err(refusal) => refusal,
                }
            }
            HostRoute::Scim => {
                let Some(principal) = principal else {
                    return json_error::response(401, "unauthorized", "SCIM needs an admin token");
                };
                let method = req.method().clone();
                let path = req.uri().path().to_string();
                let query = req.uri().query().map(str::to_string);
                let if_match = req
                    .headers()
                    .get(hyper::header::IF_MATCH)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                match crate::auth::admin_api::read_body(req, self.runner.body_timeout).await {
                    Ok(body) => {
                        crate::scim::routes::serve(
                            &*self.platform.storage,
                            principal,
                            &self.sso.public_base,
                            crate::scim::routes::ScimRequest {
                                method: &method,
                                path: &path,
                                query: query.as_deref(),
                                if_match: if_match.as_deref(),
                                body: &body,
                            },
                        )
                        .await
                    }
                    Err(refusal) => refusal,
                }
            }
            HostRoute::Sso => {
                let (parts, body) = req.into_parts();
                let body = if parts.method == hyper::Method::POST {
                    let req = hyper::Request::from_parts(parts.clone(), body);
                    match crate::auth::admin_api::read_body(req, self.runner.body_timeout).await {
                        Ok(body) => body,
                        Err(refusal) => return refusal,
                    }
                } else {
                    bytes::Bytes::new()
                };
                crate::sso::routes::serve(
                    &self.sso,
                    crate::sso::routes::SsoRequest {
                        method: &parts.method,
                        path: parts.uri.path(),
                        query: parts.uri.query(),
                        headers: &parts.headers,
                        body: &body,
                    },
                    principal,
                )
                .await
                .into_response()
            }
            HostRoute::Audit => match principal {
                Some(p) => {
                    crate::audit::api::serve(&*self.platform.storage, p, req.uri().query()).await
                }
                None => json_error::response(401, "unauthorized", "the audit log needs an admin"),
            },
            HostRoute::ResourceMetadata => match &self.auth.oidc {
                Some(provider) => json_error::json(200, &provider.resource_metadata()),
                None => json_error::response(
                    404,
                    "not_found",
                    "no identity provider is configured (MARCUS_OIDC_ISSUER): use Marcus tokens",
                ),
            },
            HostRoute::Metrics => {
                crate::metrics::board_gauges::refresh(&*self.platform.storage).await;
                self.health.record_gauges();
                metrics_response()
            }
            HostRoute::Liveness => health::liveness(),
            HostRoute::Readiness => self.health.readiness().await,
            HostRoute::EventStream => push::sse::serve(&req, realtime, &tenant, push_stopped),
            HostRoute::WebSocket if self.platform.push.websocket => {
                push::websocket::serve(req, realtime, tenant, push_stopped)
            }
            HostRoute::WebSocket => json_error::response(
                404,
                "not_found",
                "websockets are turned off on this host (ENABLE_WEBSOCKETS=0); use /api/events/stream",
            ),
        }
    }
}

/// Whether `principal` may use a host route, by the one route table the app applies too:
/// a public one anyone may; otherwise a request without credentials is `401` and one whose
/// role lacks the access `403`. A wrong method is answered `405` to anyone.
fn host_access(
    auth: &crate::auth::Authenticator,
    route: HostRoute,
    method: &hyper::Method,
    path: &str,
    principal: Option<&Principal>,
) -> Result<(), crate::auth::Refusal> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let access = match route {
        HostRoute::WrongMethod => None,
        _ => marcus_identity::route_access::route_access(method.as_str(), &segments),
    };
    let Some(access) = access else {
        return Ok(());
    };
    let Some(principal) = principal else {
        return Err(auth.unauthorized(&Rejected::Missing));
    };
    marcus_identity::access::check(principal, access, None)
        .map_err(|why| Box::new(json_error::response(403, "forbidden", &why)))
}

/// `GET /metrics`: the Prometheus text format.
fn metrics_response() -> Response {
    hyper::Response::builder()
        .status(200)
        .header("content-type", "text/plain; version=0.0.4; charset=utf-8")
        .body(
            Full::new(Bytes::from(crate::metrics::render()))
                .map_err(|never| match never {})
                .boxed_unsync(),
        )
        .expect("static response parts are valid")
}
