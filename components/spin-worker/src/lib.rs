//! The Redis-trigger worker: Spin calls it with every message on Marcus's event channel
//! (published by the Spin adapter), and it works the shared job queue with the app's own
//! job code (webhook deliveries, health recomputes, the lease sweep), exactly as the native
//! host's runner does. It reaches storage and cache only through the `marcus:platform`
//! imports, which Spin satisfies with the adapter through the manifest's component
//! dependencies.

mod bindings;
mod event_message;

use bindings::exports::fermyon::spin::inbound_redis::Guest;
use bindings::fermyon::spin::redis_types::Error as RedisError;

/// Due jobs one message runs at most; the rest wait for the next message.
pub const JOBS_PER_MESSAGE: usize = 20;
/// Period of the lease-expiry sweep the worker keeps scheduled.
pub const SWEEP_INTERVAL_MS: u64 = 5_000;

/// The exported Redis message handler.
struct Worker;

impl Guest for Worker {
    fn handle_message(message: Vec<u8>) -> Result<(), RedisError> {
        let Some(event) = event_message::EventMessage::parse(&message) else {
            eprintln!("marcus worker: ignoring a message that is not a Marcus event");
            return Ok(());
        };
        match marcus_app::run_due_jobs(JOBS_PER_MESSAGE, Some(SWEEP_INTERVAL_MS)) {
            Ok(summary) => {
                for job in summary["jobs"].as_array().into_iter().flatten() {
                    if job["outcome"] != "succeeded" {
                        eprintln!(
                            "marcus worker: job {} ({}) {}: {}",
                            job["id"], job["kind"], job["outcome"], job["detail"]
                        );
                    }
                }
                Ok(())
            }
            Err(e) => {
                eprintln!(
                    "marcus worker: running jobs after {}#{} failed: {e}",
                    event.channel, event.seq
                );
                Err(RedisError::Error)
            }
        }
    }
}

bindings::export!(Worker with_types_in bindings);
