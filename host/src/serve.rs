//! `marcus serve`: choose backends, load the component, accept connections, shut down
//! cleanly on SIGINT/SIGTERM.

use crate::cache::CacheBackend;
use crate::cache::layered::LayeredCache;
use crate::cache::memory::MemoryCache;
use crate::cache::redis::RedisCache;
use crate::cli::ServeArgs;
use crate::connection_cap::{Admission, Admitted, ConnectionCap};
use crate::engine::{self, EngineLimits, EpochTicker};
use crate::guest_call::GuestRunner;
use crate::health::{self, Health};
use crate::metrics::route_label::route_label;
use crate::platform::{self, Platform};
use crate::push::{self, PushSettings};
use crate::realtime::in_process::InProcessRealtime;
use crate::realtime::limited::LimitedRealtime;
use crate::realtime::metered::MeteredRealtime;
use crate::realtime::redis::RedisRealtime;
use crate::realtime::{RETAIN_EVENTS, RETAIN_MS, RealtimeBackend};
use crate::redis_link::RedisLink;
use crate::request_id;
use crate::request_state::RequestState;
use crate::slots::Slots;
use crate::storage::StorageBackend;
use crate::storage::metered::MeteredStorage;
use crate::storage::postgres::PostgresStorage;
use crate::storage::sqlite::SqliteStorage;
use crate::{component, data_dir, json_error};
use anyhow::Context as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::signal::unix::{SignalKind, signal};
use tracing::Instrument as _;
use wasmtime::component::Linker;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// How long in-flight requests may take to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Runs the server until a shutdown signal.
pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let data_dir = data_dir::resolve(args.data_dir.clone())?;
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("creating the data directory {}", data_dir.display()))?;

    crate::metrics::install()?;
    let open_files = crate::fd_limit::raise_to_hard_limit();
    let connections = ConnectionCap::new(crate::connection_cap::effective_limit(
        args.max_connections,
        open_files,
    ));
    if connections.limit() < args.max_connections {
        tracing::warn!(
            open_files_limit = ?open_files,
            "the open-files limit allows {} connections, not the {} asked for",
            connections.limit(),
            args.max_connections
        );
    }
    let storage = open_storage(&args, &data_dir).await?;
    let memory = Arc::new(MemoryCache::new(args.cache_entries));
    let (cache, realtime, _redis_probe): (Arc<dyn CacheBackend>, Arc<dyn RealtimeBackend>, _) =
        match &args.redis_url {
            Some(url) => {
                let link = RedisLink::new(url, &args.redis_prefix)?;
                let probe = link.start().await;
                if !link.is_healthy() {
                    tracing::warn!(
                        redis = %link.location(),
                        "redis is not answering yet; serving the cache from memory until it does"
                    );
                }
                (
                    Arc::new(LayeredCache::new(RedisCache::new(link.clone()), memory)),
                    Arc::new(MeteredRealtime::new(
                        Arc::new(LimitedRealtime::new(RedisRealtime::start(
                            link,
                            RETAIN_EVENTS,
                            RETAIN_MS,
                        ))),
                        "redis",
                    )),
                    Some(probe),
                )
            }
            None => (
                memory,
                Arc::new(MeteredRealtime::new(
                    Arc::new(LimitedRealtime::new(Arc::new(InProcessRealtime::default()))),
                    "in-process",
                )),
                None,
            ),
        };
    let kubernetes = platform::detect_kubernetes();
    let instance_id = format!("{}-{}", hostname(), std::process::id());
    let mut facts = vec![
        ("version".to_string(), env!("CARGO_PKG_VERSION").to_string()),
        ("instance-id".to_string(), instance_id),
    ];
    if !args.allowed_origins.is_empty() {
        facts.push(("allowed-origins".to_string(), args.allowed_origins.clone()));
    }
    if args.debug_routes {
        facts.push(("debug-routes".to_string(), "true".to_string()));
    }
    if !args.webhook_allow.is_empty() {
        facts.push((
            marcus_core::webhooks::destination::ALLOW_FACT.to_string(),
            args.webhook_allow.to_spec(),
        ));
    }
    let platform = Arc::new(Platform {
        storage: storage.clone(),
        cache,
        realtime,
        push: PushSettings {
            websocket: args.websockets,
        },
        facts,
        kubernetes,
        webhook_allow: Arc::new(args.webhook_allow.clone()),
    });

    let memory_limit_bytes = args.memory_limit_mb.max(1) * 1024 * 1024;
    let engine = engine::build(EngineLimits {
        max_concurrent_requests: args.max_concurrent,
        memory_limit_bytes,
    })
    .map_err(|e| anyhow::anyhow!("configuring wasmtime: {e}"))?;
    let _ticker = EpochTicker::start(engine.clone());

    let wasm = match &args.component {
        Some(path) => std::fs::read(path)
            .with_context(|| format!("reading the component {}", path.display()))?,
        None => component::EMBEDDED_APP.to_vec(),
    };
    let loaded = component::load(&engine, &wasm, &data_dir.join("compiled"))?;
    tracing::info!(
        cache = %loaded.cache_file.display(),
        from_cache = loaded.from_cache,
        "app component ready"
    );

    let mut linker: Linker<RequestState> = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)
        .map_err(|e| anyhow::anyhow!("linking WASI: {e}"))?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)
        .map_err(|e| anyhow::anyhow!("linking WASI HTTP: {e}"))?;
    platform::add_to_linker(&mut linker, |s: &mut RequestState| &mut s.platform)
        .map_err(|e| anyhow::anyhow!("linking marcus:platform: {e}"))?;
    let instance_pre = linker
        .instantiate_pre(&loaded.component)
        .map_err(|e| anyhow::anyhow!("the component's imports cannot be satisfied: {e}"))?;
    let pre = ProxyPre::new(instance_pre).map_err(|e| {
        anyhow::anyhow!("the component does not export wasi:http/incoming-handler: {e}")
    })?;

    let runner = Arc::new(GuestRunner {
        pre,
        platform: platform.clone(),
        memory_limit_bytes,
        deadline: Duration::from_millis(args.request_timeout_ms.max(10)),
        slots: Slots::new(args.max_concurrent as usize),
        body_timeout: Duration::from_millis(args.body_timeout_ms.max(1)),
    });
    let health = Arc::new(Health {
        platform: platform.clone(),
        slots: runner.slots.clone(),
        connections: connections.clone(),
    });
    let header_timeout = Duration::from_millis(args.header_timeout_ms.max(1));
    let mut accept_errors = AcceptErrors::default();

    let _jobs = (args.jobs_interval_ms > 0).then(|| {
        crate::jobs::start(
            runner.clone(),
            Duration::from_millis(args.jobs_interval_ms),
            args.sweep_interval_ms,
        )
    });

    // Signal handlers go in before the address is announced, so a signal sent as soon as the
    // server is up is a clean shutdown, never the default kill.
    let mut sigterm = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut sigint = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let addr = listener.local_addr()?;
    let report = platform::report(&platform).await;
    let features = marcus_core::features::derive(&report);
    let tier = serde_json::to_value(features.tier)?;
    let backends = platform
        .backends()
        .await
        .into_iter()
        .map(|(cap, s)| format!("{cap} {}", s.name))
        .collect::<Vec<_>>()
        .join(", ");
    println!(
        "Marcus listening on http://{addr} (tier {}; {backends})",
        tier.as_str().unwrap_or("solo")
    );
    tracing::info!(
        url = %format!("http://{addr}"),
        data_dir = %data_dir.display(),
        startup_ms = started.elapsed().as_millis() as u64,
        "serving"
    );

    let guard = Arc::new(crate::browser_guard::policy(
        args.listen,
        &args.allowed_hosts,
        &args.allowed_origins,
    ));

    // Every connection task holds a sender; when all are gone, shutdown is complete.
    let (open_connections, mut all_closed) = tokio::sync::mpsc::channel::<()>(1);
    // Long-lived push streams end when this flips, so shutdown does not wait on them.
    let (stop_push, push_stopped) = tokio::sync::watch::channel(false);
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
                let stream = match connections.admit() {
                    Admission::Serve(place) => Admitted::new(stream, place),
                    Admission::Refuse(place) => {
                        tokio::spawn(crate::over_capacity::refuse(Admitted::new(stream, place), health.clone()));
                        continue;
                    }
                    Admission::Close => {
                        metrics::counter!("marcus_connections_refused_total", "answer" => "closed").increment(1);
                        drop(stream);
                        continue;
                    }
                };
                let runner = runner.clone();
                let health = health.clone();
                let platform = platform.clone();
                let guard = guard.clone();
                let push_stopped = push_stopped.clone();
                let mut stopping = push_stopped.clone();
                // The header timer runs from when hyper waits for a request head (on a new
                // connection, and after each response), so it also closes idle keep-alive
                // connections.
                let conn = http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(header_timeout)
                    .keep_alive(true)
                    .serve_connection(
                    TokioIo::new(stream),
                    service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                        let runner = runner.clone();
                        let platform = platform.clone();
                        let guard = guard.clone();
                        let health = health.clone();
                        let push_stopped = push_stopped.clone();
                        async move {
                            let started = Instant::now();
                            let method = req.method().clone();
                            let route = route_label(req.uri().path());
                            let request_id = request_id::ensure(&mut req);
                            let span = tracing::info_span!("request", id = %request_id, %method, %route);
                            let refusal = crate::browser_guard::refuse(&guard, &req);
                            let mut response = async { if let Some(refusal) = refusal { return refusal; } match req.uri().path() {
                                path @ ("/metrics" | "/readyz") if req.method() != hyper::Method::GET => {
                                    json_error::method_not_allowed(path, "GET")
                                }
                                "/metrics" => {
                                    crate::metrics::board_gauges::refresh(&*platform.storage).await;
                                    health.record_gauges();
                                    metrics_response()
                                }
                                "/healthz" if method == hyper::Method::GET => health::liveness(),
                                "/readyz" => health.readiness().await,
                                push::SSE_PATH => push::sse::serve(&req, platform.realtime.clone(), push_stopped),
                                push::WEBSOCKET_PATH if platform.push.websocket => {
                                    push::websocket::serve(req, platform.realtime.clone(), push_stopped)
                                }
                                push::WEBSOCKET_PATH => json_error::response(
                                    404,
                                    "not_found",
                                    "websockets are turned off on this host (ENABLE_WEBSOCKETS=0); use /api/events/stream",
                                ),
                                _ => runner.serve(req).await,
                            } }.instrument(span).await;
                            request_id::echo(&mut response, &request_id);
                            crate::browser_guard::secure(&mut response);
                            if let Some(skipped) = response.headers().get(marcus_core::report_headers::UNREADABLE).and_then(|v| v.to_str().ok()) {
                                for doc in skipped.split_whitespace() {
                                    let collection = doc.split('/').next().unwrap_or("").to_string();
                                    metrics::counter!("marcus_unreadable_documents_total", "collection" => collection).increment(1);
                                    tracing::warn!(document = doc, "a board read skipped an unreadable document");
                                }
                            }
                            if let Some(outcome) = response.headers().get("x-marcus-cache").and_then(|v| v.to_str().ok()) {
                                metrics::counter!("marcus_read_cache_total", "route" => route.clone(), "result" => outcome.to_string()).increment(1);
                            }
                            let status = response.status().as_u16().to_string();
                            metrics::counter!("marcus_http_requests_total", "route" => route.clone(), "method" => method.to_string(), "status" => status).increment(1);
                            metrics::histogram!("marcus_http_request_duration_seconds", "route" => route, "method" => method.to_string()).record(started.elapsed().as_secs_f64());
                            Ok::<_, std::convert::Infallible>(response)
                        }
                    }),
                ).with_upgrades();
                let open = open_connections.clone();
                tokio::spawn(async move {
                    let _open = open;
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
                });
            }
            _ = sigterm.recv() => {
                tracing::info!("SIGTERM: finishing in-flight requests");
                break;
            }
            _ = sigint.recv() => {
                tracing::info!("SIGINT: finishing in-flight requests");
                break;
            }
        }
    }
    drop(listener);
    let _ = stop_push.send(true);
    drop(open_connections);
    if tokio::time::timeout(SHUTDOWN_GRACE, all_closed.recv())
        .await
        .is_err()
    {
        tracing::warn!("in-flight requests still running after {SHUTDOWN_GRACE:?}; closing anyway");
    }
    platform.storage.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// PostgreSQL when `DATABASE_URL` is set (it must answer now), else SQLite in the data dir.
async fn open_storage(
    args: &ServeArgs,
    data_dir: &std::path::Path,
) -> anyhow::Result<Arc<dyn StorageBackend>> {
    if let Some(url) = &args.database_url {
        let postgres = Arc::new(PostgresStorage::connect(url).await?);
        return Ok(Arc::new(MeteredStorage::new(postgres, "postgres")));
    }
    let db_path = data_dir.join("marcus.db");
    let sqlite = Arc::new(
        SqliteStorage::open(&db_path, args.sqlite_sync)
            .with_context(|| format!("opening the SQLite database {}", db_path.display()))?,
    );
    Ok(Arc::new(MeteredStorage::new(sqlite, "sqlite")))
}

/// `GET /metrics`: the Prometheus text format.
fn metrics_response() -> hyper::Response<HyperOutgoingBody> {
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

/// Failed accepts (the descriptor table full, EMFILE, is the usual one): each pauses the
/// accept loop briefly so it never spins, and they are logged at most once a second.
#[derive(Default)]
struct AcceptErrors {
    last_logged: Option<Instant>,
    since_logged: u64,
}

impl AcceptErrors {
    /// Counts and (rate-limited) logs `e`, then waits before the next accept.
    async fn pause_after(&mut self, e: &std::io::Error) {
        metrics::counter!("marcus_accept_errors_total").increment(1);
        self.since_logged += 1;
        if self
            .last_logged
            .is_none_or(|at| at.elapsed() >= Duration::from_secs(1))
        {
            tracing::warn!(
                failures = self.since_logged,
                "accepting a connection failed: {e}"
            );
            self.last_logged = Some(Instant::now());
            self.since_logged = 0;
        }
        tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
    }
}

/// How long the accept loop waits after a failed accept.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "marcus".into())
}
