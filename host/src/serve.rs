//! `marcus serve`: opens the backends the settings name, loads the app component, announces
//! the address and runs the [`Server`] until SIGINT or SIGTERM.

use crate::auth::mode::AuthMode;
use crate::auth::oidc::OidcVerifier;
use crate::auth::{Authenticator, first_admin};
use crate::cli::ServeArgs;
use crate::connection_cap::ConnectionCap;
use crate::engine::{self, EngineLimits, EpochTicker};
use crate::guest_call::GuestRunner;
use crate::health::Health;
use crate::platform::{self, Platform};
use crate::push::PushSettings;
use crate::request_state::RequestState;
use crate::server::Server;
use crate::slots::Slots;
use crate::{backends, component, data_dir};
use anyhow::Context as _;
use marcus_identity::oidc::OidcSettings;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::signal::unix::{SignalKind, signal};
use wasmtime::component::Linker;
use wasmtime_wasi_http::p2::bindings::ProxyPre;

/// Runs the server on `args.listen` until SIGINT or SIGTERM.
pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    // Signal handlers go in before the address is announced, so a signal sent as soon as the
    // server is up is a clean shutdown, never the default kill.
    let mut sigterm = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut sigint = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let shutdown = async move {
        tokio::select! {
            _ = sigterm.recv() => tracing::info!("SIGTERM: finishing in-flight requests"),
            _ = sigint.recv() => tracing::info!("SIGINT: finishing in-flight requests"),
        }
    };
    run_on(args, listener, shutdown).await
}

/// Serves `listener` with the backends and limits `args` name until `shutdown` resolves,
/// then drains, closes storage and returns. Connections that arrive while it starts wait in
/// the listener's backlog; the start-up line comes when they are served.
pub async fn run_on(
    args: ServeArgs,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
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
    let addr = listener.local_addr()?;
    if args.debug_routes && !cfg!(feature = "debug-routes") {
        anyhow::bail!(
            "--debug-routes: this build has no test-only routes (they exist only in the test build)"
        );
    }
    let oidc = oidc_settings(&args, addr)?;
    // Configuring an identity provider asks for credentials, on loopback too.
    let auth_mode = AuthMode::decide(
        addr,
        args.require_auth || oidc.is_some(),
        args.insecure_no_auth,
    )?;
    let audit = crate::audit::install(crate::audit::AuditLog {
        keys: crate::audit::keys::AuditKeys::load(&data_dir, true)?,
        checkpoint_every: args.audit_checkpoint_every,
    });
    let backends = backends::open(&args, &data_dir).await?;
    crate::metrics::zero_from_start(&backends.labels);
    crate::audit::checkpoints::spawn_timer(
        backends.storage.clone(),
        audit.clone(),
        Duration::from_secs(args.audit_checkpoint_interval_s.max(1)),
    );
    if let Some(settings) = &oidc {
        if plain_http_elsewhere(&settings.issuer) {
            tracing::warn!(
                issuer = %settings.issuer,
                "the identity provider is reached over plain HTTP on a non-loopback address: its keys can be replaced in transit; use https"
            );
        }
        tracing::info!(
            issuer = %settings.issuer,
            audience = %settings.audience,
            "accepting the identity provider's access tokens"
        );
    }
    let auth = Arc::new(Authenticator::new(
        auth_mode,
        backends.storage.clone(),
        oidc.map(OidcVerifier::new),
    ));
    match auth_mode {
        AuthMode::Required => {
            if let Some(first) = first_admin::ensure(&*backends.storage).await? {
                // Printed on the terminal once, never logged: it is the way in.
                eprintln!(
                    "\nNo admin token existed, so one was made ({}). It is shown only now:\n\n  {}\n\nSend it as Authorization: Bearer <token>; `marcus token create` makes more.\n",
                    first.record.name,
                    first.token.reveal()
                );
            }
        }
        AuthMode::Off => tracing::warn!(
            listen = %addr,
            "AUTHENTICATION IS OFF (--insecure-no-auth) on an address other machines may reach: anyone who reaches this port may read, change and delete everything"
        ),
        AuthMode::Local => {}
    }
    let sso = Arc::new(crate::sso::SsoService::new(
        backends.storage.clone(),
        auth.tenants.clone(),
        &public_base(&args, addr),
    ));
    let _redis_probe = backends.redis_probe;
    let limits = Arc::new(crate::rate_limit::RateLimits::new(
        args.rate_limit,
        args.rate_limit_anonymous,
        backends.redis.clone(),
    ));
    let platform = Arc::new(Platform {
        storage: backends.storage,
        cache: backends.cache,
        realtime: backends.realtime,
        push: PushSettings {
            websocket: args.websockets,
        },
        facts: facts(&args, auth_mode),
        kubernetes: platform::detect_kubernetes(),
        webhook_allow: Arc::new(args.webhook_allow.clone()),
        waiters: Arc::new(tokio::sync::Semaphore::new(waiting_places(
            args.max_concurrent,
        ))),
        quotas: Arc::new(crate::tenants::quotas::TenantQuotas::new(
            auth.tenants.clone(),
        )),
    });

    let memory_limit_bytes = args.memory_limit_mb.max(1) * 1024 * 1024;
    let engine = engine::build(EngineLimits {
        max_concurrent_requests: args.max_concurrent,
        memory_limit_bytes,
    })
    .map_err(|e| anyhow::anyhow!("configuring wasmtime: {e}"))?;
    let _ticker = EpochTicker::start(engine.clone());
    let pre = app_instance(&engine, args.component.as_deref(), &data_dir)?;

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
    let _jobs = (args.jobs_interval_ms > 0).then(|| {
        crate::jobs::start(
            runner.clone(),
            Duration::from_millis(args.jobs_interval_ms),
            args.sweep_interval_ms,
        )
    });

    announce(&platform, addr).await?;
    tracing::info!(
        url = %format!("http://{addr}"),
        data_dir = %data_dir.display(),
        startup_ms = started.elapsed().as_millis() as u64,
        "serving"
    );

    let server = Server {
        runner,
        health,
        platform: platform.clone(),
        guard: Arc::new(crate::browser_guard::policy(
            addr,
            &args.allowed_hosts,
            &args.allowed_origins,
        )),
        connections,
        header_timeout: Duration::from_millis(args.header_timeout_ms.max(1)),
        auth,
        limits,
        sso,
    };
    server.serve(listener, shutdown).await;
    platform.storage.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// The URL people reach this server at: `--public-url`, else the listen address (on a
/// specific address; a wildcard one cannot be linked to, so sign-ins then need the public
/// URL, and their routes say so through the provider's refusal of an unknown redirect).
fn public_base(args: &ServeArgs, addr: SocketAddr) -> String {
    match &args.public_url {
        Some(url) => url.trim_end_matches('/').to_string(),
        None => format!("http://{addr}"),
    }
}

/// The identity provider to trust, when one is configured. Its tokens must name this
/// server's MCP URL as their audience unless another is configured.
fn oidc_settings(args: &ServeArgs, addr: SocketAddr) -> anyhow::Result<Option<OidcSettings>> {
    let Some(issuer) = args.oidc_issuer.clone() else {
        return Ok(None);
    };
    let audience = match (&args.oidc_audience, &args.public_url) {
        (Some(audience), _) => audience.clone(),
        (None, Some(public)) => format!("{}/mcp", public.trim_end_matches('/')),
        (None, None) if addr.ip().is_unspecified() => anyhow::bail!(
            "--oidc-issuer on {addr} needs the URL clients use: set --public-url (MARCUS_PUBLIC_URL) or --oidc-audience"
        ),
        (None, None) => format!("http://{addr}/mcp"),
    };
    let role_map = OidcSettings::parse_role_map(&args.oidc_role_map)
        .map_err(|e| anyhow::anyhow!("--oidc-role-map: {e}"))?;
    Ok(Some(OidcSettings {
        issuer,
        audience,
        role_claim: args.oidc_role_claim.clone(),
        role_map,
        agent_claim: args.oidc_agent_claim.clone(),
    }))
}

/// Whether `url` is plain `http://` to anything but a loopback address or `localhost`.
fn plain_http_elsewhere(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split('/').next().unwrap_or_default();
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host,
        _ => authority,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    !(host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()))
}

/// The capabilities fact naming how requests are authenticated (`local`, `required`,
/// `insecure-no-auth`).
pub const AUTH_FACT: &str = "auth";

/// The facts the capabilities report carries beside the backends.
fn facts(args: &ServeArgs, auth: AuthMode) -> Vec<(String, String)> {
    let instance_id = format!("{}-{}", hostname(), std::process::id());
    let mut facts = vec![
        ("version".to_string(), env!("CARGO_PKG_VERSION").to_string()),
        ("instance-id".to_string(), instance_id),
        // Every change is recorded with its audit record (see `crate::audit`).
        ("audit".to_string(), "on".to_string()),
        (AUTH_FACT.to_string(), auth.as_str().to_string()),
    ];
    if !args.allowed_origins.is_empty() {
        facts.push(("allowed-origins".to_string(), args.allowed_origins.clone()));
    }
    if let Some(issuer) = &args.oidc_issuer {
        facts.push(("oidc-issuer".to_string(), issuer.clone()));
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
    facts
}

/// The app component (`component`, else the embedded one), compiled (or loaded from the
/// data directory's cache) and linked against WASI and the platform.
pub fn app_instance(
    engine: &wasmtime::Engine,
    component: Option<&std::path::Path>,
    data_dir: &std::path::Path,
) -> anyhow::Result<ProxyPre<RequestState>> {
    let wasm = match component {
        Some(path) => std::fs::read(path)
            .with_context(|| format!("reading the component {}", path.display()))?,
        None => component::EMBEDDED_APP.to_vec(),
    };
    let loaded = component::load(engine, &wasm, &data_dir.join("compiled"))?;
    tracing::info!(
        cache = %loaded.cache_file.display(),
        from_cache = loaded.from_cache,
        "app component ready"
    );
    let mut linker: Linker<RequestState> = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)
        .map_err(|e| anyhow::anyhow!("linking WASI: {e}"))?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)
        .map_err(|e| anyhow::anyhow!("linking WASI HTTP: {e}"))?;
    platform::add_to_linker(&mut linker, |s: &mut RequestState| &mut s.platform)
        .map_err(|e| anyhow::anyhow!("linking marcus:platform: {e}"))?;
    let instance_pre = linker
        .instantiate_pre(&loaded.component)
        .map_err(|e| anyhow::anyhow!("the component's imports cannot be satisfied: {e}"))?;
    ProxyPre::new(instance_pre).map_err(|e| {
        anyhow::anyhow!("the component does not export wasi:http/incoming-handler: {e}")
    })
}

/// Prints the start-up line scripts and the launcher wait for: the address, the tier and
/// the backends.
async fn announce(platform: &Platform, addr: std::net::SocketAddr) -> anyhow::Result<()> {
    let report = platform::report(platform).await;
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
        "{}{addr} (tier {}; {backends})",
        crate::launcher::LISTENING_PREFIX,
        tier.as_str().unwrap_or("solo")
    );
    println!("  dashboard: http://{addr}/\n  MCP:       http://{addr}/mcp");
    Ok(())
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "marcus".into())
}

/// Requests that may wait for an event at once: half the instance slots, so waiting agents
/// never hold every slot while other requests queue.
fn waiting_places(max_concurrent: u32) -> usize {
    (max_concurrent as usize / 2).max(1)
}

#[cfg(test)]
mod tests {
    use super::plain_http_elsewhere;

    #[test]
    fn plain_http_is_only_fine_on_loopback() {
        assert!(!plain_http_elsewhere("https://id.example"));
        assert!(!plain_http_elsewhere("http://127.0.0.1:8080"));
        assert!(!plain_http_elsewhere("http://[::1]:8080/realms/x"));
        assert!(!plain_http_elsewhere("http://localhost"));
        assert!(plain_http_elsewhere("http://id.example"));
        assert!(plain_http_elsewhere("http://10.0.0.5:8080"));
    }
}
