//! The data directory: it must exist (or be creatable) and take writes, since it holds the
//! SQLite database and the compiled app.

use super::check::Check;
use std::path::Path;

const NAME: &str = "data directory";

/// Whether `dir` exists and a file can be written in it.
pub fn check(dir: &Path) -> Check {
    if !dir.exists() {
        return Check::warn(
            NAME,
            format!("{} does not exist yet", dir.display()),
            "`marcus serve` creates it at first start; or point --data-dir (MARCUS_HOME) at an existing directory",
        );
    }
    if !dir.is_dir() {
        return Check::fail(
            NAME,
            format!("{} is not a directory", dir.display()),
            "point --data-dir (MARCUS_HOME) at a directory",
        );
    }
    let probe = dir.join(format!(".marcus-doctor-{}", std::process::id()));
    match std::fs::write(&probe, b"probe") {
        Ok(()) => {
            let _ = std::fs::remove_file(&probe);
            Check::ok(NAME, format!("{} exists and is writable", dir.display()))
        }
        Err(e) => Check::fail(
            NAME,
            format!("{} is not writable: {e}", dir.display()),
            format!(
                "give the user running marcus write access to {} (chown/chmod), or choose another --data-dir",
                dir.display()
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::super::check::Status;

    #[test]
    fn missing_plain_file_and_writable_directories_are_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(super::check(dir.path()).status, Status::Ok);
        assert_eq!(super::check(&dir.path().join("new")).status, Status::Warn);
        let file = dir.path().join("f");
        std::fs::write(&file, b"").unwrap();
        assert_eq!(super::check(&file).status, Status::Fail);
        assert!(
            std::fs::read_dir(dir.path()).unwrap().count() == 1,
            "the probe file is gone"
        );
    }
}
