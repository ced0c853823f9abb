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
pub mod families;
pub mod route_label;

use families::Kind;
pub use families::Startup;

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

/// The current metrics in the Prometheus text format (empty before [`install`]), every
/// family included: those without a series yet are described without samples.
pub fn render() -> String {
    let Some(handle) = HANDLE.get() else {
        return String::new();
    };
    let mut text = handle.render();
    text.push_str(&families::describe_missing(&text));
    text
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    for f in families::FAMILIES {
        match f.kind {
            Kind::Counter => describe_counter!(f.name, f.help),
            Kind::Gauge => describe_gauge!(f.name, f.help),
            Kind::Histogram => describe_histogram!(f.name, f.help),
        }
    }
}

/// Registers, at zero, every series whose labels are known once the backends are chosen, so
/// the first scrape already shows them.
pub fn zero_from_start(startup: &Startup) {
    for (name, pairs) in families::zero_series(startup) {
        let labels: Vec<metrics::Label> = pairs
            .into_iter()
            .map(|(k, v)| metrics::Label::new(k, v))
            .collect();
        match families::find(name).map(|f| f.kind) {
            Some(Kind::Counter) => metrics::counter!(name, labels).increment(0),
            Some(Kind::Gauge) => metrics::gauge!(name, labels).increment(0.0),
            // A histogram handle alone makes an empty histogram (all buckets at zero).
            Some(Kind::Histogram) => drop(metrics::histogram!(name, labels)),
            None => {}
        }
    }
}
