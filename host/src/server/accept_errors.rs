//! Failed accepts: counted, logged at most once a second, and paced so the accept loop never
//! spins on a full descriptor table.

use std::time::{Duration, Instant};

/// Failed accepts (the descriptor table full, EMFILE, is the usual one): each pauses the
/// accept loop briefly so it never spins, and they are logged at most once a second.
#[derive(Default)]
pub struct AcceptErrors {
    last_logged: Option<Instant>,
    since_logged: u64,
}

impl AcceptErrors {
    /// Counts and (rate-limited) logs `e`, then waits before the next accept.
    pub async fn pause_after(&mut self, e: &std::io::Error) {
        metrics::counter!("marcus_accept_errors_total").increment(1);
        self.since_logged += 1;
        if self
            .last_logged
            .is_none_or(|at| at.elapsed() >= Duration::from_secs(1))
        {
            tracing::warn!(
                failures = self.since_logged,
                "accepting a connection failed: {e}"
            );
            self.last_logged = Some(Instant::now());
            self.since_logged = 0;
        }
        tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
    }
}

/// How long the accept loop waits after a failed accept.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);
