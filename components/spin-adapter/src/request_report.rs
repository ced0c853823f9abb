//! `marcus:platform/request-report` on Spin: Spin keeps no metrics for a component, so the
//! report has nowhere to go; the app's own log line already names every unreadable document
//! (Spin collects a component's stderr), and the client sees both facts in response headers.

use crate::Adapter;
use crate::bindings::exports::marcus::platform::request_report::{Guest, ReadCacheOutcome};

impl Guest for Adapter {
    fn read_cache(_outcome: ReadCacheOutcome) {}

    fn skipped_unreadable(_collection: String, _id: String) {}
}
