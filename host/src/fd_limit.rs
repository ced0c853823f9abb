//! The open-files limit: raised to the hard limit at start, because every client connection
//! is a file descriptor and the usual soft limit (often 1024) is far below what a busy
//! server needs.

use rustix::process::{Resource, getrlimit, setrlimit};

/// Raises the soft open-files limit to the hard limit and returns the limit now in effect
/// (`None` when unlimited).
pub fn raise_to_hard_limit() -> Option<u64> {
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        let wanted = rustix::process::Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        match setrlimit(Resource::Nofile, wanted) {
            Ok(()) => limit = getrlimit(Resource::Nofile),
            Err(e) => tracing::warn!(
                soft = ?limit.current,
                hard = ?limit.maximum,
                "could not raise the open-files limit: {e}"
            ),
        }
    }
    limit.current
}
