//! A `marcus serve` child process: start-up timing, resident memory and a clean stop.

use crate::http_once;
use anyhow::{Context, bail};
use hyper::StatusCode;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::time::Instant;

/// How long a launch may take before the bench gives up (a cold launch compiles the component).
const START_TIMEOUT: Duration = Duration::from_secs(120);
/// The prefix of the one line `marcus serve` prints on stdout once it accepts connections.
const LISTENING_PREFIX: &str = "Marcus listening on http://";
/// How much of the child's stderr is kept to explain a failed start.
const STDERR_TAIL_BYTES: usize = 8 * 1024;

/// How long a launch took, both measured from the moment of spawning.
#[derive(Debug, Clone, Copy)]
pub struct Startup {
    /// Until the "Marcus listening on" line arrived.
    pub listening: Duration,
    /// Until the first 200 from `GET /healthz`.
    pub first_ok: Duration,
}

/// A running `marcus serve`; killed if dropped without [`MarcusProcess::stop`].
pub struct MarcusProcess {
    child: Child,
    pid: u32,
    addr: SocketAddr,
    stderr_tail: Arc<Mutex<Vec<u8>>>,
}

impl MarcusProcess {
    /// Spawns `binary serve --listen 127.0.0.1:0 --data-dir data_dir` on the SQLite/in-memory
    /// (solo) backends and waits for the first healthy answer.
    pub async fn start(binary: &Path, data_dir: &Path) -> anyhow::Result<(Self, Startup)> {
        let spawned_at = Instant::now();
        let mut child = Command::new(binary)
            .arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(data_dir)
            .env_remove("DATABASE_URL")
            .env_remove("REDIS_URL")
            .env_remove("ENABLE_WEBSOCKETS")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("spawning {}", binary.display()))?;
        let pid = child.id().context("marcus exited at once")?;
        let stderr_tail = Arc::new(Mutex::new(Vec::new()));
        tokio::spawn(keep_tail(
            child.stderr.take().context("no stderr pipe")?,
            stderr_tail.clone(),
        ));
        let stdout = child.stdout.take().context("no stdout pipe")?;
        let mut process = Self {
            child,
            pid,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            stderr_tail,
        };
        let waited = tokio::time::timeout(START_TIMEOUT, async {
            let addr = read_listening_addr(stdout).await?;
            let listening = spawned_at.elapsed();
            wait_healthy(addr).await;
            anyhow::Ok((addr, listening, spawned_at.elapsed()))
        })
        .await;
        match waited {
            Ok(Ok((addr, listening, first_ok))) => {
                process.addr = addr;
                Ok((
                    process,
                    Startup {
                        listening,
                        first_ok,
                    },
                ))
            }
            Ok(Err(e)) => Err(process.explain(e).await),
            Err(_) => {
                let e = anyhow::anyhow!("marcus did not become healthy within {START_TIMEOUT:?}");
                Err(process.explain(e).await)
            }
        }
    }

    /// Where marcus listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The process's resident set size (VmRSS) in KiB, from /proc.
    pub fn rss_kib(&self) -> anyhow::Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid))
            .context("reading /proc status (Linux only)")?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .context("no VmRSS line in /proc status")
    }

    /// Asks marcus to shut down (SIGTERM), so it can flush what it caches in its data
    /// directory; kills it if it has not exited after a few seconds.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        // SAFETY: kill(2) with a pid this process spawned and has not reaped yet.
        unsafe {
            libc::kill(self.pid as libc::pid_t, libc::SIGTERM);
        }
        if tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .is_err()
        {
            self.child.kill().await?;
        }
        Ok(())
    }

    /// Kills the process and adds its exit status and last stderr lines to `error`.
    async fn explain(mut self, error: anyhow::Error) -> anyhow::Error {
        let _ = self.child.start_kill();
        let status = tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        let tail = self
            .stderr_tail
            .lock()
            .map(|t| String::from_utf8_lossy(&t).into_owned())
            .unwrap_or_default();
        let status = match status {
            Ok(Ok(s)) => s.to_string(),
            _ => "exit status unknown".into(),
        };
        error.context(format!(
            "marcus failed to start ({status}); last stderr:\n{}",
            tail.trim_end()
        ))
    }
}

/// Reads stdout until the listening line and returns its address; keeps draining afterwards
/// so the child never blocks on a full pipe.
async fn read_listening_addr(
    stdout: impl AsyncRead + Unpin + Send + 'static,
) -> anyhow::Result<SocketAddr> {
    let mut lines = BufReader::new(stdout).lines();
    while let Some(line) = lines.next_line().await? {
        if let Some(rest) = line.trim().strip_prefix(LISTENING_PREFIX) {
            let authority = rest.split(['/', ' ']).next().unwrap_or_default();
            let addr: SocketAddr = authority
                .parse()
                .with_context(|| format!("unexpected listening line: {line}"))?;
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            return Ok(addr);
        }
    }
    bail!("marcus closed stdout without printing \"{LISTENING_PREFIX}...\"")
}

/// Polls `GET /healthz` until it answers 200.
async fn wait_healthy(addr: SocketAddr) {
    loop {
        if let Ok((StatusCode::OK, _)) = http_once::get(addr, "/healthz").await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Drains a pipe, keeping only its last few KiB.
async fn keep_tail(mut pipe: impl AsyncRead + Unpin, tail: Arc<Mutex<Vec<u8>>>) {
    let mut buf = [0u8; 4096];
    while let Ok(n) = pipe.read(&mut buf).await {
        if n == 0 {
            return;
        }
        if let Ok(mut tail) = tail.lock() {
            tail.extend_from_slice(&buf[..n]);
            let excess = tail.len().saturating_sub(STDERR_TAIL_BYTES);
            tail.drain(..excess);
        }
    }
}
