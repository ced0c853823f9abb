//! The native host's job timer: runs the app's background jobs (`POST /api/jobs/{name}` in
//! the component) at fixed intervals, in-process. The job code lives in the app, so any host
//! that can call the route runs the same jobs; several hosts running them at once is safe
//! (the jobs' writes are compare-and-swap).

use crate::guest_call::GuestRunner;
use std::sync::Arc;
use std::time::Duration;

/// Starts the lease-expiry sweep every `every`; it stops when the returned task is dropped
/// or aborted.
pub fn start_lease_sweep(runner: Arc<GuestRunner>, every: Duration) -> JobTimer {
    JobTimer(tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            let resp = runner
                .call_internal(hyper::Method::POST, "/api/jobs/lease-sweep")
                .await;
            let status = resp.status().as_u16();
            metrics::counter!("marcus_jobs_total", "job" => "lease-sweep", "outcome" => if status == 200 { "ok" } else { "failed" })
                .increment(1);
            if status != 200 {
                tracing::warn!(status, "lease sweep failed; it runs again at the next tick");
            }
        }
    }))
}

/// A running job timer; dropping it stops the timer.
pub struct JobTimer(tokio::task::JoinHandle<()>);

impl Drop for JobTimer {
    fn drop(&mut self) {
        self.0.abort();
    }
}
