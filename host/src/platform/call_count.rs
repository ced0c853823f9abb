//! Counting platform calls: every call the app makes across the component boundary to a
//! capability (storage, cache, realtime, commit, capabilities) adds one to this request's count and
//! to `marcus_platform_calls_total{interface,function}`. On PostgreSQL or Redis most calls
//! are a network round trip, so the count per operation is what batching is measured by.
//! `request-report` and `identity` calls are not counted: they touch no backend (the report
//! is the host's own accounting channel, the principal was verified before the app ran).

use std::sync::atomic::{AtomicU32, Ordering};

/// The request header that asks for this request's count, and the response header that
/// carries it (`x-marcus-platform-calls: N`); without the request header the response is
/// left as it is.
pub const HEADER: &str = "x-marcus-platform-calls";

/// Every counted (interface, function), so the counter family shows them at zero from the
/// first scrape.
pub const FUNCTIONS: &[(&str, &str)] = &[
    ("storage", "get"),
    ("storage", "get-many"),
    ("storage", "read-many"),
    ("storage", "put"),
    ("storage", "put-many"),
    ("storage", "delete"),
    ("storage", "query"),
    ("storage", "count"),
    ("storage", "list-collections"),
    ("storage", "scan"),
    ("storage", "stats"),
    ("cache", "get"),
    ("cache", "set"),
    ("cache", "add"),
    ("cache", "delete"),
    ("cache", "clear"),
    ("realtime", "publish"),
    ("realtime", "poll"),
    ("commit", "apply"),
    ("capabilities", "describe"),
    ("audit", "refused"),
];

/// One request's platform calls so far.
#[derive(Debug, Default)]
pub struct CallCount {
    calls: AtomicU32,
}

impl CallCount {
    /// Counts one call of `interface`'s `function` (WIT names).
    pub fn record(&self, interface: &'static str, function: &'static str) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        metrics::counter!(
            "marcus_platform_calls_total",
            "interface" => interface,
            "function" => function
        )
        .increment(1);
    }

    /// The calls counted so far.
    pub fn total(&self) -> u32 {
        self.calls.load(Ordering::Relaxed)
    }
}
