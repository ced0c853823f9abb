//! Prometheus metrics of the host: the `metrics` facade records, the Prometheus exporter
//! renders `GET /metrics` (text format 0.0.4). Names start with `marcus_`.
//!
//! What is measured where: HTTP requests and component instantiation in `guest_call`,
//! storage operations and compare-and-swap conflicts in `storage::metered`, cache hits and
//! misses per layer in the cache backends, push subscribers in `push`, published events and
//! the lease lifecycle in `realtime::metered`, and tasks by status per project at scrape time
//! (see [`board_gauges`]); connection refusals, body and header timeouts and failed
//! accepts in `serve`, `over_capacity` and `request_body`, open connections and busy slots
//! at scrape time.

pub mod board_gauges;
pub mod route_label;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Latency buckets in seconds, from 50 µs to 10 s.
const LATENCY_BUCKETS: [f64; 14] = [
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0, 10.0,
];

/// Installs the process-wide recorder once; later calls reuse it.
pub fn install() -> anyhow::Result<()> {
    if HANDLE.get().is_some() {
        return Ok(());
    }
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &LATENCY_BUCKETS)
        .map_err(|e| anyhow::anyhow!("configuring metrics: {e}"))?
        .install_recorder()
        .map_err(|e| anyhow::anyhow!("installing the metrics recorder: {e}"))?;
    describe();
    let _ = HANDLE.set(handle);
    Ok(())
}

/// The current metrics in the Prometheus text format (empty before [`install`]).
pub fn render() -> String {
    HANDLE.get().map(|h| h.render()).unwrap_or_default()
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "marcus_http_requests_total",
        "HTTP requests by route template, method and status"
    );
    describe_histogram!(
        "marcus_http_request_duration_seconds",
        "HTTP request latency by route template and method"
    );
    describe_histogram!(
        "marcus_component_instantiation_seconds",
        "Time to instantiate the app component for one request"
    );
    describe_histogram!(
        "marcus_storage_operation_duration_seconds",
        "Storage operation latency by backend and operation"
    );
    describe_counter!(
        "marcus_storage_errors_total",
        "Failed storage operations by backend, operation and error kind"
    );
    describe_counter!(
        "marcus_storage_cas_conflicts_total",
        "Compare-and-swap preconditions that failed (each one is a retry for the caller)"
    );
    describe_counter!(
        "marcus_cache_requests_total",
        "Cache reads by layer and result (hit or miss)"
    );
    describe_gauge!(
        "marcus_push_subscribers",
        "Open push streams by transport (sse, websocket)"
    );
    describe_counter!(
        "marcus_realtime_events_published_total",
        "Events published by realtime backend"
    );
    describe_counter!(
        "marcus_leases_total",
        "Task leases by event: granted, renewed, expired"
    );
    describe_counter!(
        "marcus_jobs_total",
        "Queued jobs this host ran, by kind and outcome (succeeded, retried, dead)"
    );
    describe_counter!(
        "marcus_job_runs_total",
        "Job-runner ticks by outcome (ok, failed)"
    );
    describe_counter!(
        "marcus_read_cache_total",
        "Cached board reads by route and result (hit, miss, shared, bypass)"
    );
    describe_counter!(
        "marcus_requests_refused_total",
        "Requests refused before serving by reason (origin_not_allowed, host_not_allowed, unsupported_media_type)"
    );
    describe_counter!(
        "marcus_unreadable_documents_total",
        "Stored documents a board read skipped because they do not parse, by collection"
    );
    describe_gauge!(
        "marcus_tasks",
        "Tasks by project and status, read from storage at scrape time"
    );
    describe_gauge!(
        "marcus_open_connections",
        "Client connections open within the cap, at scrape time"
    );
    describe_gauge!(
        "marcus_busy_slots",
        "Execution slots running a request, at scrape time"
    );
    describe_counter!(
        "marcus_connections_refused_total",
        "Connections over the cap, by answer (503, or closed when refusals were also full)"
    );
    describe_counter!(
        "marcus_request_body_timeouts_total",
        "Requests answered 408 because their body did not arrive in time"
    );
    describe_counter!(
        "marcus_header_timeouts_total",
        "Connections closed because a request head did not arrive in time (idle included)"
    );
    describe_counter!(
        "marcus_accept_errors_total",
        "Failed accepts (such as a full descriptor table)"
    );
}
