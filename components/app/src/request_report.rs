//! Tells the host what a request did beside its answer (through `request-report`, a typed
//! import, so the host never parses the response for it): the read cache's outcome and the
//! documents a read skipped as unreadable. The client sees the same facts in the
//! `x-marcus-cache` and `x-marcus-unreadable` response headers.

use crate::bindings::request_report::{self as report, ReadCacheOutcome};
use crate::http_io::Response;
use crate::{read_cache, records};
use marcus_core::read_cache as rules;

/// Reports this request to the host and names the same facts in `response`'s headers.
pub fn tell_host(mut response: Response) -> Response {
    let skipped = records::unreadable_skipped();
    for document in &skipped {
        let (collection, id) = document.split_once('/').unwrap_or((document, ""));
        report::skipped_unreadable(collection, id);
    }
    if !skipped.is_empty() {
        response = response.with_header(marcus_core::report_headers::UNREADABLE, skipped.join(" "));
    }
    match read_cache::outcome() {
        Some(outcome) => {
            if let Some(told) = typed(outcome) {
                report::read_cache(told);
            }
            response.with_header("x-marcus-cache", outcome.to_string())
        }
        None => response,
    }
}

/// The import's enum for one of the cache's outcome names.
fn typed(outcome: &str) -> Option<ReadCacheOutcome> {
    match outcome {
        rules::HIT => Some(ReadCacheOutcome::Hit),
        rules::MISS => Some(ReadCacheOutcome::Miss),
        rules::SHARED => Some(ReadCacheOutcome::Shared),
        rules::BYPASS => Some(ReadCacheOutcome::Bypass),
        _ => None,
    }
}
