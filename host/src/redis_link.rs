//! One self-healing Redis connection shared by the Redis cache layer and Redis realtime.
//!
//! Redis is optional infrastructure: the host starts without it, uses it while it answers,
//! and keeps serving from memory when it goes away. A probe reconnects every second, so a
//! Redis that appears (or comes back) is picked up live, without a restart.
//!
//! A Redis that stalls (a paused process, a saturated link) rather than dies keeps its
//! connection: commands written to it while it does not answer are applied, in order, when
//! it wakes up. So the cache keys this host changes meanwhile get a `DEL` queued behind them
//! at once (it lands before anything another host sends after the stall), and are deleted
//! again before this host uses Redis again ([`PendingInvalidations`]): values written while
//! Redis was away never leave Redis serving what a write replaced.

use crate::backend_status::BackendStatus;
use crate::cache::pending::PendingInvalidations;
use crate::capability_error::CapabilityError;
use redis::AsyncConnectionConfig;
use redis::aio::MultiplexedConnection;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// How often the probe pings (or reconnects).
pub const PROBE_INTERVAL: Duration = Duration::from_secs(1);
/// How long one Redis command may take before it counts as a failure.
pub const COMMAND_TIMEOUT: Duration = Duration::from_millis(500);
/// How long opening a connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// How long a connection that stopped answering is kept (for its queued commands) before
/// the probe gives it up and opens a new one.
pub const STALL_LIMIT: Duration = Duration::from_secs(10);
/// Keys deleted per round trip when invalidations are replayed.
const REPLAY_BATCH: usize = 500;

/// URL schemes `REDIS_URL` accepts.
pub const SCHEMES: [&str; 2] = ["redis://", "unix://"];

/// One command's result within [`COMMAND_TIMEOUT`], without touching the link's health.
async fn answered_in_time<T>(
    op: impl std::future::Future<Output = redis::RedisResult<T>>,
) -> Result<T, String> {
    match tokio::time::timeout(COMMAND_TIMEOUT, op).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer within {COMMAND_TIMEOUT:?}")),
    }
}

/// The shared link.
pub struct RedisLink {
    client: redis::Client,
    connection: RwLock<Option<MultiplexedConnection>>,
    healthy: AtomicBool,
    last_error: Mutex<String>,
    location: String,
    prefix: String,
    /// How many times Redis stopped answering since start (0 while it never answered).
    outages: AtomicU64,
    /// Since when the held connection has not answered.
    stalled_since: Mutex<Option<Instant>>,
    /// Cache keys to delete before Redis is trusted again.
    pending: Mutex<PendingInvalidations>,
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
            outages: AtomicU64::new(0),
            stalled_since: Mutex::new(None),
            pending: Mutex::new(PendingInvalidations::default()),
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
            Ok(Ok(_)) => self.answered(conn).await,
            Ok(Err(e)) if e.is_timeout() => self.stalled("no answer to PING"),
            Ok(Err(e)) => self.failed(&e.to_string()),
            Err(_) => self.stalled("no answer to PING"),
        }
    }

    /// Redis answered the probe: keep the connection and, coming back from an outage, replay
    /// the pending invalidations before anything reads from Redis again.
    async fn answered(&self, conn: MultiplexedConnection) {
        if let Ok(mut slot) = self.connection.write() {
            *slot = Some(conn.clone());
        }
        if let Ok(mut since) = self.stalled_since.lock() {
            *since = None;
        }
        if self.is_healthy() {
            return;
        }
        loop {
            let (keys, everything) = {
                let Ok(mut pending) = self.pending.lock() else {
                    return;
                };
                if pending.is_empty() {
                    // Under the lock: a key recorded from now on sees the link healthy and
                    // is deleted directly (see `invalidate_when_back`).
                    self.healthy.store(true, Ordering::SeqCst);
                    tracing::info!(redis = %self.location, "redis is answering");
                    return;
                }
                pending.take()
            };
            let count = keys.len();
            if let Err(e) = self.replay(conn.clone(), &keys, everything).await {
                if let Ok(mut pending) = self.pending.lock() {
                    pending.restore(keys, everything);
                }
                self.failed(&format!("replaying cache invalidations: {e}"));
                return;
            }
            tracing::info!(
                redis = %self.location,
                keys = count,
                everything,
                "cache keys changed while redis was away are invalidated"
            );
        }
    }

    /// Deletes `keys` (and with `everything`, the whole cache) on `conn`.
    async fn replay(
        &self,
        mut conn: MultiplexedConnection,
        keys: &[String],
        everything: bool,
    ) -> Result<(), String> {
        for batch in keys.chunks(REPLAY_BATCH) {
            answered_in_time(redis::cmd("DEL").arg(batch).query_async::<i64>(&mut conn)).await?;
        }
        if !everything {
            return Ok(());
        }
        let pattern = self.key("cache:*");
        let mut cursor: u64 = 0;
        loop {
            let (next, found): (u64, Vec<String>) = answered_in_time(
                redis::cmd("SCAN")
                    .arg(cursor)
                    .arg("MATCH")
                    .arg(&pattern)
                    .arg("COUNT")
                    .arg(REPLAY_BATCH)
                    .query_async(&mut conn),
            )
            .await?;
            if !found.is_empty() {
                answered_in_time(
                    redis::cmd("UNLINK")
                        .arg(&found)
                        .query_async::<i64>(&mut conn),
                )
                .await?;
            }
            if next == 0 {
                return Ok(());
            }
            cursor = next;
        }
    }

    /// Remembers that cache key `key` (a full Redis key) changed while Redis did not take
    /// the change: a `DEL` goes behind whatever is queued on a stalled connection now, and the
    /// key is deleted again before Redis is used. If the link recovered in the meantime the
    /// key is deleted right away instead.
    pub async fn invalidate_when_back(&self, key: String) {
        for _ in 0..2 {
            {
                let Ok(mut pending) = self.pending.lock() else {
                    return;
                };
                if !self.is_healthy() {
                    pending.key(key.clone());
                    drop(pending);
                    self.queue_on_stalled_connection(key);
                    return;
                }
            }
            let Some(mut conn) = self.connection() else {
                continue;
            };
            if self
                .run(redis::cmd("DEL").arg(&key).query_async::<i64>(&mut conn))
                .await
                .is_ok()
            {
                return;
            }
        }
    }

    /// Remembers that the whole cache must be dropped when Redis is back.
    pub fn invalidate_everything_when_back(&self) {
        if let Ok(mut pending) = self.pending.lock() {
            pending.everything();
        }
    }

    /// Writes `DEL key` to the connection kept through a stall, without waiting for the
    /// answer: Redis applies it after the commands already queued, when it wakes up.
    fn queue_on_stalled_connection(&self, key: String) {
        let Some(mut conn) = self.connection.read().ok().and_then(|c| c.clone()) else {
            return;
        };
        tokio::spawn(async move {
            let _ = tokio::time::timeout(
                STALL_LIMIT,
                redis::cmd("DEL").arg(&key).query_async::<i64>(&mut conn),
            )
            .await;
        });
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

    /// Records a failure of the connection itself: drops it so the probe opens a fresh one,
    /// and reports the capability unhealthy until then.
    pub fn failed(&self, error: &str) {
        if let Ok(mut slot) = self.connection.write() {
            *slot = None;
        }
        if let Ok(mut since) = self.stalled_since.lock() {
            *since = None;
        }
        self.went_away(error);
    }

    /// Records a command or probe that got no answer in time: the connection is kept (what
    /// was written to it is still applied if Redis wakes up) until [`STALL_LIMIT`] passes
    /// without an answer.
    fn stalled(&self, error: &str) {
        let given_up = match self.stalled_since.lock() {
            Ok(mut since) => since.get_or_insert_with(Instant::now).elapsed() > STALL_LIMIT,
            Err(_) => true,
        };
        if given_up {
            self.failed(&format!("{error} for over {STALL_LIMIT:?}"));
        } else {
            self.went_away(error);
        }
    }

    fn went_away(&self, error: &str) {
        if let Ok(mut last) = self.last_error.lock() {
            *last = error.to_string();
        }
        if self.healthy.swap(false, Ordering::SeqCst) {
            self.outages.fetch_add(1, Ordering::SeqCst);
            tracing::warn!(redis = %self.location, "redis stopped answering: {error}");
        }
    }

    /// How many times Redis has stopped answering since start: what this host kept in
    /// memory during one outage is not served in the next.
    pub fn outages(&self) -> u64 {
        self.outages.load(Ordering::SeqCst)
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
                if e.is_timeout() {
                    self.stalled("command timed out");
                } else {
                    self.failed(&e.to_string());
                }
                Err(CapabilityError::Unavailable(format!("redis: {e}")))
            }
            Err(_) => {
                self.stalled("command timed out");
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
