//! The native host's job runner: at a fixed interval it asks the app to run the due jobs of
//! the shared queue (`POST /api/jobs/run`), in-process, once for each active tenant in that
//! tenant's scope (each tenant's queue, lease sweep and webhooks are its own). The queue and
//! the job code live in the app, so every host (and the Spin worker) runs the same jobs, and
//! the queue's compare-and-swap claims keep two hosts from running one job twice.

use crate::guest_call::GuestRunner;
use marcus_identity::principal::Principal;
use std::sync::Arc;
use std::time::Duration;

/// Jobs one tick takes on at most; a longer queue is worked off tick after tick.
const JOBS_PER_TICK: usize = 20;

/// Starts the runner: every `every`, run due jobs and keep the periodic lease sweep at
/// `sweep_interval_ms` (0: no sweep). It stops when the returned timer is dropped.
pub fn start(runner: Arc<GuestRunner>, every: Duration, sweep_interval_ms: u64) -> JobTimer {
    let path = format!("/api/jobs/run?limit={JOBS_PER_TICK}&sweep_interval_ms={sweep_interval_ms}");
    JobTimer(tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            let tenants = match crate::tenants::registry::active(&*runner.platform.storage).await {
                Ok(tenants) => tenants,
                Err(e) => {
                    tracing::warn!("reading the tenants failed; retrying at the next tick: {e}");
                    continue;
                }
            };
            for tenant in tenants {
                run_for(&runner, &path, &tenant).await;
            }
        }
    }))
}

/// Runs `tenant`'s due jobs, as that tenant's job principal.
async fn run_for(runner: &Arc<GuestRunner>, path: &str, tenant: &str) {
    let resp = runner
        .call_as(
            hyper::Method::POST,
            path,
            &format!("job-run-{tenant}"),
            Principal::job_of(tenant),
        )
        .await;
    let status = resp.status().as_u16();
    if status != 200 {
        metrics::counter!("marcus_job_runs_total", "outcome" => "failed").increment(1);
        tracing::warn!(
            status,
            tenant,
            "running queued jobs failed; retrying at the next tick"
        );
        return;
    }
    metrics::counter!("marcus_job_runs_total", "outcome" => "ok").increment(1);
    let body = crate::guest_call::body_bytes(resp).await;
    record(&body);
}

/// Counts each job the run reports by kind and outcome (succeeded, retried, dead).
fn record(body: &[u8]) {
    let Ok(summary) = serde_json::from_slice::<serde_json::Value>(body) else {
        return;
    };
    for job in summary["jobs"].as_array().into_iter().flatten() {
        let kind = job["kind"].as_str().unwrap_or("unknown").to_string();
        let outcome = job["outcome"].as_str().unwrap_or("unknown").to_string();
        if outcome != "succeeded" {
            tracing::warn!(job = %job["id"], %kind, %outcome, detail = %job["detail"], "job did not succeed");
        }
        metrics::counter!("marcus_jobs_total", "job" => kind, "outcome" => outcome).increment(1);
    }
}

/// A running job timer; dropping it stops the timer.
pub struct JobTimer(tokio::task::JoinHandle<()>);

impl Drop for JobTimer {
    fn drop(&mut self) {
        self.0.abort();
    }
}
