//! A `marcus serve` child on a free port with a data dir of its own, for the synchronous
//! benchmark programs, and where to find the binary.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A running server; killed when dropped.
pub struct MarcusServer {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    _dir: tempfile::TempDir,
}

impl MarcusServer {
    /// Starts `marcus serve` with `env` on top of a clean environment (no backend variables
    /// inherited) and waits for its start-up line.
    pub fn start(marcus: &Path, env: &[(String, String)]) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let mut child = Command::new(marcus)
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path())
            .env_remove("DATABASE_URL")
            .env_remove("REDIS_URL")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout is piped")).read_line(&mut line)?;
        let url = line
            .split("listening on ")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .map(str::to_string);
        let server = Self {
            child,
            url: url.unwrap_or_default(),
            _dir: dir,
        };
        anyhow::ensure!(!server.url.is_empty(), "unexpected start-up line {line:?}");
        Ok(server)
    }
}

impl Drop for MarcusServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The marcus binary: `given` (a path argument), else `marcus` beside the running program;
/// an error with the build command when it does not exist.
pub fn marcus_binary(given: Option<String>) -> anyhow::Result<PathBuf> {
    let path = given.map(PathBuf::from).unwrap_or_else(|| {
        std::env::current_exe()
            .ok()
            .and_then(|p| p.parent().map(|d| d.join("marcus")))
            .unwrap_or_default()
    });
    anyhow::ensure!(
        path.exists(),
        "marcus binary not found at {}; run `cargo build --release -p marcus-host`",
        path.display()
    );
    Ok(path)
}
