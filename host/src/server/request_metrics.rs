//! What each answered request adds to the metrics: its count and latency by route template,
//! and what the app reported doing beside the answer through `request-report` (documents it
//! skipped as unreadable, the read cache's outcome).

use crate::platform::report_glue::RequestReport;
use hyper::Method;
use std::time::Instant;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// Records one answered request.
pub fn record(
    route: &str,
    method: &Method,
    started: Instant,
    response: &hyper::Response<HyperOutgoingBody>,
) {
    if let Some(report) = response.extensions().get::<RequestReport>() {
        for doc in &report.unreadable {
            let collection = doc.split('/').next().unwrap_or("").to_string();
            metrics::counter!("marcus_unreadable_documents_total", "collection" => collection)
                .increment(1);
            tracing::warn!(
                document = %doc,
                "a board read skipped an unreadable document"
            );
        }
        if let Some(outcome) = report.read_cache {
            metrics::counter!(
                "marcus_read_cache_total",
                "route" => route.to_string(),
                "result" => outcome
            )
            .increment(1);
        }
    }
    let status = response.status().as_u16().to_string();
    metrics::counter!(
        "marcus_http_requests_total",
        "route" => route.to_string(),
        "method" => method.to_string(),
        "status" => status
    )
    .increment(1);
    metrics::histogram!(
        "marcus_http_request_duration_seconds",
        "route" => route.to_string(),
        "method" => method.to_string()
    )
    .record(started.elapsed().as_secs_f64());
}
