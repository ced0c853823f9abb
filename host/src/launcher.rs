//! Starting `marcus serve` as a child process: the one launcher the end-to-end suites and
//! the benchmarks share, so they all start the server the same way and read its start-up
//! line with the rule that prints it.
//!
//! The child listens on a free loopback port and inherits none of the caller's settings:
//! every environment variable the command line reads is cleared first (a developer's
//! `DATABASE_URL` must not turn a solo test into a team one), then the launch's own
//! variables are set.

use anyhow::{Context, bail};
use clap::CommandFactory;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What `marcus serve` prints on stdout, followed by its address, once it accepts
/// connections.
pub const LISTENING_PREFIX: &str = "Marcus listening on http://";

/// Every environment variable the `marcus` command line reads (its `env = …` arguments).
pub fn settings_variables() -> Vec<String> {
    fn walk(cmd: &clap::Command, out: &mut Vec<String>) {
        for arg in cmd.get_arguments() {
            if let Some(var) = arg.get_env() {
                out.push(var.to_string_lossy().into_owned());
            }
        }
        for sub in cmd.get_subcommands() {
            walk(sub, out);
        }
    }
    let mut out = Vec::new();
    walk(&crate::cli::Cli::command(), &mut out);
    out.sort();
    out.dedup();
    out
}

/// Where the child's stderr goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stderr {
    /// Kept in memory (the last `limit` bytes, or all of it), to explain a failure.
    Keep {
        /// Bytes kept at most; `None` keeps everything.
        limit: Option<usize>,
    },
    /// The caller's own stderr.
    Inherit,
}

/// A `marcus serve` to start.
#[derive(Debug, Clone)]
pub struct Launch {
    binary: PathBuf,
    data_dir: Option<PathBuf>,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    stderr: Stderr,
}

impl Launch {
    /// `binary serve --listen 127.0.0.1:0`, logging warnings and errors, stderr kept.
    pub fn new(binary: impl AsRef<Path>) -> Self {
        Self {
            binary: binary.as_ref().to_path_buf(),
            data_dir: None,
            args: Vec::new(),
            env: vec![("RUST_LOG".into(), "warn".into())],
            stderr: Stderr::Keep { limit: None },
        }
    }

    /// Serves from `dir` (`--data-dir`).
    pub fn data_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.data_dir = Some(dir.as_ref().to_path_buf());
        self
    }

    /// More `serve` arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// An environment variable for the child (set after the settings are cleared).
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Where stderr goes.
    pub fn stderr(mut self, stderr: Stderr) -> Self {
        self.stderr = stderr;
        self
    }

    /// Spawns the server and waits, at most `timeout`, for its start-up line. On failure the
    /// child is killed and the error holds its exit status and stderr.
    pub fn start(self, timeout: Duration) -> anyhow::Result<Launched> {
        let spawned_at = Instant::now();
        let mut cmd = Command::new(&self.binary);
        cmd.arg("serve").arg("--listen").arg("127.0.0.1:0");
        if let Some(dir) = &self.data_dir {
            cmd.arg("--data-dir").arg(dir);
        }
        for var in settings_variables() {
            cmd.env_remove(var);
        }
        cmd.args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(match self.stderr {
                Stderr::Keep { .. } => Stdio::piped(),
                Stderr::Inherit => Stdio::inherit(),
            });
        let mut child = cmd
            .spawn()
            .with_context(|| format!("spawning {}", self.binary.display()))?;
        let stderr = Arc::new(Mutex::new(Vec::new()));
        if let (Stderr::Keep { limit }, Some(pipe)) = (self.stderr, child.stderr.take()) {
            keep_stderr(pipe, stderr.clone(), limit);
        }
        let stdout = child.stdout.take().context("no stdout pipe")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = tx.send(line);
            // Keep draining so the child never blocks on a full pipe.
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let mut launched = Launched {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            url: String::new(),
            listening_after: Duration::ZERO,
            stderr,
        };
        let line = match rx.recv_timeout(timeout) {
            Ok(line) => line,
            Err(_) => {
                return Err(launched.fail(format!(
                    "marcus printed no start-up line within {timeout:?}"
                )));
            }
        };
        match listening_addr(&line) {
            Some(addr) => {
                launched.addr = addr;
                launched.url = format!("http://{addr}");
                launched.listening_after = spawned_at.elapsed();
                Ok(launched)
            }
            None => Err(launched.fail(format!("unexpected start-up line {line:?}"))),
        }
    }
}

/// The address in a start-up line, if it is one.
pub fn listening_addr(line: &str) -> Option<SocketAddr> {
    let rest = line.trim().strip_prefix(LISTENING_PREFIX)?;
    rest.split(['/', ' ']).next()?.parse().ok()
}

fn keep_stderr(
    mut pipe: impl Read + Send + 'static,
    sink: Arc<Mutex<Vec<u8>>>,
    limit: Option<usize>,
) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = pipe.read(&mut buf) {
            if n == 0 {
                break;
            }
            let Ok(mut kept) = sink.lock() else { break };
            kept.extend_from_slice(&buf[..n]);
            if let Some(limit) = limit {
                let excess = kept.len().saturating_sub(limit);
                kept.drain(..excess);
            }
        }
    });
}

/// A running `marcus serve`. Dropping it kills the process.
#[derive(Debug)]
pub struct Launched {
    /// The process.
    pub child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// From spawning to the start-up line.
    pub listening_after: Duration,
    stderr: Arc<Mutex<Vec<u8>>>,
}

impl Launched {
    /// What the process wrote to stderr so far (what was kept of it).
    pub fn stderr_text(&self) -> String {
        self.stderr
            .lock()
            .map(|s| String::from_utf8_lossy(&s).into_owned())
            .unwrap_or_default()
    }

    /// The buffer stderr is kept in, readable after the process is gone.
    pub fn stderr_handle(&self) -> Arc<Mutex<Vec<u8>>> {
        self.stderr.clone()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the child and explains why the launch failed.
    fn fail(&mut self, why: String) -> anyhow::Error {
        let _ = self.child.kill();
        let status = self
            .child
            .wait()
            .map_or("exit status unknown".to_string(), |s| s.to_string());
        std::thread::sleep(Duration::from_millis(50));
        anyhow::anyhow!(
            "{why}; marcus {status}; its stderr:\n{}",
            self.stderr_text().trim_end()
        )
    }
}

impl Drop for Launched {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Fails with the build command when no `marcus` binary is at `path`.
pub fn require_binary(path: &Path) -> anyhow::Result<()> {
    if !path.is_file() {
        bail!(
            "marcus binary not found at {}; build it first with `cargo build --release -p marcus-host`",
            path.display()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_start_up_line_gives_the_address() {
        assert_eq!(
            listening_addr("Marcus listening on http://127.0.0.1:4321 (tier solo; sqlite)\n"),
            Some(SocketAddr::from(([127, 0, 0, 1], 4321)))
        );
        assert_eq!(listening_addr("something else"), None);
    }

    #[test]
    fn every_backend_variable_is_cleared() {
        let vars = settings_variables();
        for var in [
            "DATABASE_URL",
            "REDIS_URL",
            "MARCUS_HOME",
            "ENABLE_WEBSOCKETS",
        ] {
            assert!(vars.iter().any(|v| v == var), "{var} in {vars:?}");
        }
    }
}
