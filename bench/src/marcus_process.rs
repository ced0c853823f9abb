//! A `marcus serve` child process: start-up timing, resident memory and a clean stop.

use crate::http_once;
use anyhow::Context;
use hyper::StatusCode;
use marcus_host::launcher::{Launch, Launched, Stderr};
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

/// How long a launch may take before the bench gives up (a cold launch compiles the component).
const START_TIMEOUT: Duration = Duration::from_secs(120);
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
    process: Launched,
}

impl MarcusProcess {
    /// Spawns `binary serve --listen 127.0.0.1:0 --data-dir data_dir` on the SQLite/in-memory
    /// (solo) backends, through the host's launcher, and waits for the first healthy answer.
    pub async fn start(binary: &Path, data_dir: &Path) -> anyhow::Result<(Self, Startup)> {
        let spawned_at = Instant::now();
        let launch = Launch::new(binary).data_dir(data_dir).stderr(Stderr::Keep {
            limit: Some(STDERR_TAIL_BYTES),
        });
        let process = tokio::task::spawn_blocking(move || launch.start(START_TIMEOUT))
            .await
            .context("the launch thread failed")??;
        let listening = process.listening_after;
        let addr = process.addr;
        let healthy = tokio::time::timeout(
            START_TIMEOUT.saturating_sub(spawned_at.elapsed()),
            wait_healthy(addr),
        )
        .await;
        let process = Self { process };
        match healthy {
            Ok(()) => Ok((
                process,
                Startup {
                    listening,
                    first_ok: spawned_at.elapsed(),
                },
            )),
            Err(_) => Err(process.explain(anyhow::anyhow!(
                "marcus did not become healthy within {START_TIMEOUT:?}"
            ))),
        }
    }

    /// Where marcus listens.
    pub fn addr(&self) -> SocketAddr {
        self.process.addr
    }

    /// The process's resident set size (VmRSS) in KiB, from /proc.
    pub fn rss_kib(&self) -> anyhow::Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.process.pid()))
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
            libc::kill(self.process.pid() as libc::pid_t, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.process.child.try_wait()?.is_some() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.process.child.kill()?;
        self.process.child.wait()?;
        Ok(())
    }

    /// Kills the process and adds its last stderr lines to `error`.
    fn explain(mut self, error: anyhow::Error) -> anyhow::Error {
        let _ = self.process.child.kill();
        let status = self
            .process
            .child
            .wait()
            .map_or("exit status unknown".to_string(), |s| s.to_string());
        error.context(format!(
            "marcus failed to start ({status}); last stderr:\n{}",
            self.process.stderr_text().trim_end()
        ))
    }
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
