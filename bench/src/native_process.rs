//! Runs the native baseline in a child process of its own, so that it and marcus are both
//! measured from outside their process, by the same load generator, on equal terms.

use anyhow::{Context, bail};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// The line prefix the child prints once it listens.
pub const READY_PREFIX: &str = "native listening on ";

/// A native server child process; killed when dropped.
pub struct NativeProcess {
    child: Child,
    addr: SocketAddr,
}

impl NativeProcess {
    /// Starts `<this executable> --serve-native <db>` and waits for its address.
    pub fn start(db_path: &Path) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("locating the bench executable")?;
        let mut child = Command::new(exe)
            .arg("--serve-native")
            .arg(db_path)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting the native server process")?;
        let stdout = child.stdout.take().context("native server stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let Some(addr) = line.trim().strip_prefix(READY_PREFIX) else {
            let _ = child.kill();
            bail!("the native server process did not start: {line:?}");
        };
        let addr = addr.parse().context("native server address")?;
        Ok(Self { child, addr })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for NativeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The child's side: serve until killed.
pub fn serve_forever(db_path: &Path) -> anyhow::Result<()> {
    let server = crate::native_server::NativeServer::start(db_path)?;
    println!("{READY_PREFIX}{}", server.addr());
    use std::io::Write as _;
    std::io::stdout().flush()?;
    loop {
        std::thread::park();
    }
}
