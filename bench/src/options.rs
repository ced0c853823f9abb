//! Command-line options of the benchmark.

use anyhow::{Context, bail};
use clap::Parser;
use std::path::PathBuf;
use std::time::Duration;

/// What to measure and how hard; the defaults fit a small shared machine.
#[derive(Debug, Parser)]
#[command(
    name = "marcus-bench",
    about = "Benchmarks one storage read through the Marcus component against a plain native handler"
)]
pub struct Options {
    /// Keep-alive HTTP/1.1 connections the load generator keeps busy.
    #[arg(long, default_value_t = 8)]
    pub connections: usize,

    /// Length of each measured window, in seconds (after a warm-up).
    #[arg(long, default_value_t = 5)]
    pub duration_secs: u64,

    /// Length of the warm-up before each measured window, in seconds.
    #[arg(long, default_value_t = 1)]
    pub warmup_secs: u64,

    /// How many times native and component are each measured, alternately; the best run of
    /// each is reported.
    #[arg(long, default_value_t = 2)]
    pub rounds: usize,

    /// The `marcus` binary to benchmark (default: the one next to this executable).
    #[arg(long)]
    pub marcus: Option<PathBuf>,

    /// Measure only the native handler (no marcus needed): a quick check of the machine and
    /// of the load generator.
    #[arg(long)]
    pub native_only: bool,

    /// Internal: serve the native baseline from this SQLite file until killed (the bench
    /// runs it as a child process).
    #[arg(long, hide = true)]
    pub serve_native: Option<PathBuf>,

    /// Print one JSON object on stdout instead of the table.
    #[arg(long)]
    pub json: bool,
}

impl Options {
    /// Rejects settings that would make the figures meaningless.
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.connections == 0 {
            bail!("--connections must be at least 1");
        }
        if self.duration_secs == 0 {
            bail!("--duration-secs must be at least 1");
        }
        if self.rounds == 0 {
            bail!("--rounds must be at least 1");
        }
        Ok(())
    }

    /// The measured window of one run.
    pub fn measure(&self) -> Duration {
        Duration::from_secs(self.duration_secs)
    }

    /// The warm-up before each measured window.
    pub fn warmup(&self) -> Duration {
        Duration::from_secs(self.warmup_secs)
    }

    /// The marcus binary to run: `--marcus`, else `marcus` beside this executable. Fails with
    /// the build command to run when it does not exist.
    pub fn marcus_binary(&self) -> anyhow::Result<PathBuf> {
        let path = match &self.marcus {
            Some(path) => path.clone(),
            None => std::env::current_exe()
                .context("cannot locate the bench executable")?
                .parent()
                .context("the bench executable has no parent directory")?
                .join("marcus"),
        };
        marcus_host::launcher::require_binary(&path)?;
        Ok(path)
    }
}
