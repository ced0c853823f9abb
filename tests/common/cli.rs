//! Runs `marcus` administration commands (`token`, `tenant`, `sso`, …) on a data directory
//! or a PostgreSQL database, as an operator would.

use std::path::Path;
use std::process::{Command, Output};

/// `marcus ARGS --data-dir DIR`, with `DATABASE_URL` when given (and no other setting from
/// the test's environment).
pub fn output(dir: &Path, database_url: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_marcus"));
    cmd.args(args)
        .arg("--data-dir")
        .arg(dir)
        .env_remove("DATABASE_URL")
        .env_remove("MARCUS_HOME");
    if let Some(url) = database_url {
        cmd.env("DATABASE_URL", url);
    }
    cmd.output().unwrap()
}

/// [`output`]'s stdout, panicking with stderr when the command fails.
pub fn ok(dir: &Path, database_url: Option<&str>, args: &[&str]) -> String {
    let out = output(dir, database_url, args);
    assert!(
        out.status.success(),
        "marcus {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
