//! The Redis-trigger worker: Spin calls it with every message on Marcus's event channel
//! (published by the Spin adapter), and it works the shared job queue with the app's own
//! job code (webhook deliveries, health recomputes, the lease sweep), exactly as the native
//! host's runner does. It reaches storage and cache only through the `marcus:platform`
//! imports, which Spin satisfies with the adapter through the manifest's component
//! dependencies.
//!
//! Each tenant's jobs run in that tenant's scope: the worker asks the adapter which tenants
//! are served (`job-scope.tenants`), then enters each one's scope in turn
//! (`job-scope.enter`) and runs its due jobs. The adapter, not the job code, keeps them
//! apart, as it does for requests; until a scope is entered every call fails closed.

mod bindings;
mod event_message;

use bindings::exports::fermyon::spin::inbound_redis::Guest;
use bindings::fermyon::spin::redis_types::Error as RedisError;
use bindings::marcus::platform::job_scope;

/// Due jobs one message runs at most per tenant; the rest wait for the next message.
pub const JOBS_PER_MESSAGE: usize = 20;
/// Period of the lease-expiry sweep the worker keeps scheduled in every tenant.
pub const SWEEP_INTERVAL_MS: u64 = 5_000;

/// The exported Redis message handler.
struct Worker;

impl Guest for Worker {
    fn handle_message(message: Vec<u8>) -> Result<(), RedisError> {
        let Some(event) = event_message::EventMessage::parse(&message) else {
            eprintln!("marcus worker: ignoring a message that is not a Marcus event");
            return Ok(());
        };
        let tenants = job_scope::tenants().map_err(|e| {
            eprintln!(
                "marcus worker: listing tenants after {}#{} failed: {e:?}",
                event.channel, event.seq
            );
            RedisError::Error
        })?;
        // One tenant's failure does not keep the others' jobs waiting; Spin hears of it.
        let mut failed = false;
        for tenant in tenants {
            if let Err(e) = run_tenant(&tenant) {
                eprintln!(
                    "marcus worker: running tenant {tenant}'s jobs after {}#{} failed: {e}",
                    event.channel, event.seq
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

/// Runs `tenant`'s due jobs in its scope, logging every job that did not succeed.
fn run_tenant(tenant: &str) -> Result<(), String> {
    job_scope::enter(tenant).map_err(|e| format!("entering its scope: {e:?}"))?;
    let summary = marcus_app::run_due_jobs(JOBS_PER_MESSAGE, Some(SWEEP_INTERVAL_MS))?;
    for job in summary["jobs"].as_array().into_iter().flatten() {
        if job["outcome"] != "succeeded" {
            eprintln!(
                "marcus worker: tenant {tenant}: job {} ({}) {}: {}",
                job["id"], job["kind"], job["outcome"], job["detail"]
            );
        }
    }
    Ok(())
}

bindings::export!(Worker with_types_in bindings);
