//! One self-healing Redis connection shared by the Redis cache layer and Redis realtime.
//!
//! Redis is optional infrastructure: the host starts without it, uses it while it answers,
//! and keeps serving from memory when it goes away. A probe reconnects every second, so a
//! Redis that appears (or comes back) is picked up live, without a restart.

use crate::backend_status::BackendStatus;
use crate::capability_error::CapabilityError;
use redis::AsyncConnectionConfig;
use redis::aio::MultiplexedConnection;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// How often the probe pings (or reconnects).
pub const PROBE_INTERVAL: Duration = Duration::from_secs(1);
/// How long one Redis command may take before it counts as a failure.
pub const COMMAND_TIMEOUT: Duration = Duration::from_millis(500);
/// How long opening a connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// URL schemes `REDIS_URL` accepts.
pub const SCHEMES: [&str; 2] = ["redis://", "unix://"];

/// The shared link.
pub struct RedisLink {
    client: redis::Client,
    connection: RwLock<Option<MultiplexedConnection>>,
    healthy: AtomicBool,
    last_error: Mutex<String>,
    location: String,
    prefix: String,
}

impl RedisLink {
    /// Checks the URL (it does not connect yet); `prefix` namespaces every key and channel
    /// so several installations can share one Redis.
    pub fn new(url: &str, prefix: &str) -> anyhow::Result<Arc<Self>> {
        if url.starts_with("rediss://") {
            anyhow::bail!(
                "REDIS_URL uses rediss:// (TLS), which this marcus does not support; use redis:// on a private network"
            );
        }
        if !SCHEMES.iter().any(|s| url.starts_with(s)) {
            anyhow::bail!(
                "REDIS_URL must start with redis:// or unix://; got {:?}",
                url.split("://").next().unwrap_or(url)
            );
        }
        let client = redis::Client::open(url)
            .map_err(|e| anyhow::anyhow!("REDIS_URL is not a valid Redis URL: {e}"))?;
        let location = match &client.get_connection_info().addr() {
            redis::ConnectionAddr::Tcp(host, port) => format!("redis://{host}:{port}"),
            redis::ConnectionAddr::Unix(path) => format!("unix://{}", path.display()),
            _ => "redis".to_string(),
        };
        Ok(Arc::new(Self {
            client,
            connection: RwLock::new(None),
            healthy: AtomicBool::new(false),
            last_error: Mutex::new("not connected yet".into()),
            location,
            prefix: prefix.to_string(),
        }))
    }

    /// Tries to connect once now (so the start-up report is accurate), then keeps probing in
    /// the background for as long as the returned task lives.
    pub async fn start(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        self.probe().await;
        let link = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(PROBE_INTERVAL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(link) = link.upgrade() else { return };
                link.probe().await;
            }
        })
    }

    async fn probe(&self) {
        let current = self.connection.read().ok().and_then(|c| c.clone());
        let conn = match current {
            Some(c) => c,
            None => match self.connect().await {
                Ok(c) => c,
                Err(e) => {
                    self.failed(&e);
                    return;
                }
            },
        };
        let mut ping_conn = conn.clone();
        let ping = tokio::time::timeout(
            COMMAND_TIMEOUT,
            redis::cmd("PING").query_async::<String>(&mut ping_conn),
        )
        .await;
        match ping {
            Ok(Ok(_)) => {
                if let Ok(mut slot) = self.connection.write() {
                    *slot = Some(conn);
                }
                if !self.healthy.swap(true, Ordering::SeqCst) {
                    tracing::info!(redis = %self.location, "redis is answering");
                }
            }
            Ok(Err(e)) => self.failed(&e.to_string()),
            Err(_) => self.failed("no answer to PING"),
        }
    }

    async fn connect(&self) -> Result<MultiplexedConnection, String> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(COMMAND_TIMEOUT));
        self.client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(|e| e.to_string())
    }

    /// Records a failure: drops the connection so the probe opens a fresh one, and reports
    /// the capability unhealthy until then.
    pub fn failed(&self, error: &str) {
        if let Ok(mut slot) = self.connection.write() {
            *slot = None;
        }
        if let Ok(mut last) = self.last_error.lock() {
            *last = error.to_string();
        }
        if self.healthy.swap(false, Ordering::SeqCst) {
            tracing::warn!(redis = %self.location, "redis stopped answering: {error}");
        }
    }

    /// The connection while Redis is healthy; `None` means "use the fallback".
    pub fn connection(&self) -> Option<MultiplexedConnection> {
        if !self.healthy.load(Ordering::SeqCst) {
            return None;
        }
        self.connection.read().ok().and_then(|c| c.clone())
    }

    /// Runs one command future under the command timeout; a failure marks the link down.
    pub async fn run<T>(
        &self,
        op: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, CapabilityError> {
        match tokio::time::timeout(COMMAND_TIMEOUT, op).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => {
                self.failed(&e.to_string());
                Err(CapabilityError::Unavailable(format!("redis: {e}")))
            }
            Err(_) => {
                self.failed("command timed out");
                Err(CapabilityError::Unavailable(format!(
                    "redis: no answer within {COMMAND_TIMEOUT:?}"
                )))
            }
        }
    }

    /// Whether the last command or probe succeeded.
    pub fn is_healthy(&self) -> bool {
        self.healthy.load(Ordering::SeqCst)
    }

    /// `redis://host:port`, without credentials.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The key or channel name for `suffix` under this installation's prefix.
    pub fn key(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.prefix)
    }

    /// The client, for connections of their own (pub/sub).
    pub fn client(&self) -> &redis::Client {
        &self.client
    }

    /// Status for capability reports; `role` says what Redis does here.
    pub fn status(&self, role: &str) -> BackendStatus {
        if self.is_healthy() {
            BackendStatus::healthy("redis", format!("{} ({role})", self.location))
        } else {
            let error = self
                .last_error
                .lock()
                .map(|e| e.clone())
                .unwrap_or_default();
            BackendStatus {
                name: "redis".into(),
                healthy: false,
                detail: format!("{}: {error}", self.location),
            }
        }
    }
}
