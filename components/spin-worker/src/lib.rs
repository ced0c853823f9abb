//! The Redis-trigger worker: Spin calls it with every message on Marcus's event channel
//! (published by the Spin adapter), and it runs each [`job::Job`] that wants the event.
//! It reaches storage and cache only through the `marcus:platform` imports, which Spin
//! satisfies with the adapter through the manifest's component dependencies.

mod bindings;
mod event_message;
mod job;
mod jobs;
mod platform_store;

use bindings::exports::fermyon::spin::inbound_redis::Guest;
use bindings::fermyon::spin::redis_types::Error as RedisError;

/// The exported Redis message handler.
struct Worker;

impl Guest for Worker {
    fn handle_message(message: Vec<u8>) -> Result<(), RedisError> {
        let Some(event) = event_message::EventMessage::parse(&message) else {
            eprintln!("marcus worker: ignoring a message that is not a Marcus event");
            return Ok(());
        };
        let mut failed = false;
        for job in jobs::all() {
            if !job.wants(&event) {
                continue;
            }
            if let Err(e) = job.run(&event) {
                eprintln!(
                    "marcus worker: job {} failed for {}#{}: {e}",
                    job.name(),
                    event.channel,
                    event.seq
                );
                failed = true;
            }
        }
        if failed {
            Err(RedisError::Error)
        } else {
            Ok(())
        }
    }
}

bindings::export!(Worker with_types_in bindings);
