//! Where Marcus keeps its files when nothing says otherwise.

use std::path::PathBuf;

/// `--data-dir`, else `$MARCUS_HOME` (clap reads it), else `~/.marcus`.
pub fn resolve(flag: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    if let Some(dir) = flag {
        return Ok(dir);
    }
    let home = std::env::home_dir()
        .filter(|h| !h.as_os_str().is_empty())
        .ok_or_else(|| anyhow::anyhow!("no home directory; pass --data-dir or set MARCUS_HOME"))?;
    Ok(home.join(".marcus"))
}
