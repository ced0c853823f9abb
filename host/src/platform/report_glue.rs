//! `marcus:platform/request-report`: what the app did for a request beside its answer, kept
//! with the request for the host's metrics and logs (see `server::request_metrics`).

use super::PlatformView;
use super::bindings::marcus::platform::request_report as wit;

/// One request's report; the runner attaches it to the response (as an extension, never a
/// header) once the app has answered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestReport {
    /// How the request's cached read was answered (hit, miss, shared, bypass).
    pub read_cache: Option<&'static str>,
    /// `collection/id` of every document the request's reads skipped as unreadable.
    pub unreadable: Vec<String>,
}

impl wit::Host for PlatformView {
    async fn read_cache(&mut self, outcome: wit::ReadCacheOutcome) {
        let outcome = match outcome {
            wit::ReadCacheOutcome::Hit => marcus_core::read_cache::HIT,
            wit::ReadCacheOutcome::Miss => marcus_core::read_cache::MISS,
            wit::ReadCacheOutcome::Shared => marcus_core::read_cache::SHARED,
            wit::ReadCacheOutcome::Bypass => marcus_core::read_cache::BYPASS,
        };
        if let Ok(mut report) = self.report.lock() {
            report.read_cache = Some(outcome);
        }
    }

    async fn skipped_unreadable(&mut self, collection: String, id: String) {
        if let Ok(mut report) = self.report.lock() {
            report.unreadable.push(format!("{collection}/{id}"));
        }
    }
}
