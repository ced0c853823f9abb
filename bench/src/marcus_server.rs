//! A `marcus serve` child on a free port with a data dir of its own, for the synchronous
//! benchmark programs (started by the host's launcher, as the test suites start theirs),
//! and where to find the binary.

use marcus_host::launcher::{Launch, Launched, Stderr, require_binary};
use std::path::PathBuf;
use std::time::Duration;

/// How long a start may take (a cold start compiles the component).
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// A running server; killed when dropped.
pub struct MarcusServer {
    _process: Launched,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    _dir: tempfile::TempDir,
}

impl MarcusServer {
    /// Starts `marcus serve` with `env` on top of a clean environment (no setting variables
    /// inherited) and waits for its start-up line; its log goes to this program's stderr.
    pub fn start(marcus: &std::path::Path, env: &[(String, String)]) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let mut launch = Launch::new(marcus)
            .data_dir(dir.path())
            .stderr(Stderr::Inherit);
        for (k, v) in env {
            launch = launch.env(k, v);
        }
        let process = launch.start(START_TIMEOUT)?;
        Ok(Self {
            url: process.url.clone(),
            _process: process,
            _dir: dir,
        })
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
    require_binary(&path)?;
    Ok(path)
}
