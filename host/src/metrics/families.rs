//! Every metric family the host exports, in one table: its kind and help text, and the
//! series it shows at zero from the first scrape on. A dashboard or alert written against
//! a family finds it before the traffic that first moves it (a rate over a counter that
//! appears only with its first error starts one scrape late, and an absent series reads as
//! "no data", not as zero).
//!
//! A series is zero-initialised when its label values are known at start: fixed sets (platform
//! functions, lease events, refusal reasons, job kinds and outcomes, cache results), the
//! configured backends, and the scrape's own route. Labels that only traffic or data supply
//! (other routes, a project's id, the collection of an unreadable document) have no value to
//! show yet: those families are described from the start (`# HELP`/`# TYPE`) and gain series
//! as they occur.

use crate::metrics::route_label::route_label;
use crate::platform::call_count;
use marcus_core::jobs::kinds as job_kinds;
use marcus_core::read_cache;
use marcus_core::request_guard;

/// The kind of a family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Only goes up.
    Counter,
    /// Goes up and down.
    Gauge,
    /// Buckets of observations.
    Histogram,
}

impl Kind {
    /// The name in the text format's `# TYPE` line.
    pub fn type_name(self) -> &'static str {
        match self {
            Self::Counter => "counter",
            Self::Gauge => "gauge",
            Self::Histogram => "histogram",
        }
    }
}

/// One metric family.
#[derive(Debug, Clone, Copy)]
pub struct Family {
    /// Its name (`marcus_…`).
    pub name: &'static str,
    /// Counter, gauge or histogram.
    pub kind: Kind,
    /// The `# HELP` text.
    pub help: &'static str,
}

const fn family(name: &'static str, kind: Kind, help: &'static str) -> Family {
    Family { name, kind, help }
}

/// Every family the host exports.
pub const FAMILIES: &[Family] = &[
    family(
        "marcus_http_requests_total",
        Kind::Counter,
        "HTTP requests by route template, method and status",
    ),
    family(
        "marcus_http_request_duration_seconds",
        Kind::Histogram,
        "HTTP request latency by route template and method",
    ),
    family(
        "marcus_component_instantiation_seconds",
        Kind::Histogram,
        "Time to instantiate the app component for one request",
    ),
    family(
        "marcus_storage_operation_duration_seconds",
        Kind::Histogram,
        "Storage operation latency by backend and operation",
    ),
    family(
        "marcus_storage_errors_total",
        Kind::Counter,
        "Failed storage operations by backend, operation and error kind",
    ),
    family(
        "marcus_storage_cas_conflicts_total",
        Kind::Counter,
        "Compare-and-swap preconditions that failed (each one is a retry for the caller)",
    ),
    family(
        "marcus_platform_calls_total",
        Kind::Counter,
        "Calls the app made to the platform capabilities across the component boundary, by interface and function",
    ),
    family(
        "marcus_cache_requests_total",
        Kind::Counter,
        "Cache reads by layer and result (hit or miss)",
    ),
    family(
        "marcus_push_subscribers",
        Kind::Gauge,
        "Open push streams by transport (sse, websocket)",
    ),
    family(
        "marcus_realtime_events_published_total",
        Kind::Counter,
        "Events published by realtime backend",
    ),
    family(
        "marcus_leases_total",
        Kind::Counter,
        "Task leases by event: granted, renewed, expired",
    ),
    family(
        "marcus_jobs_total",
        Kind::Counter,
        "Queued jobs this host ran, by kind and outcome (succeeded, retried, dead)",
    ),
    family(
        "marcus_job_runs_total",
        Kind::Counter,
        "Job-runner ticks by outcome (ok, failed)",
    ),
    family(
        "marcus_read_cache_total",
        Kind::Counter,
        "Cached board reads by route and result (hit, miss, shared, bypass)",
    ),
    family(
        "marcus_requests_refused_total",
        Kind::Counter,
        "Requests refused before serving by reason (origin_not_allowed, host_not_allowed, unsupported_media_type)",
    ),
    family(
        "marcus_unreadable_documents_total",
        Kind::Counter,
        "Stored documents a board read skipped because they do not parse, by collection",
    ),
    family(
        "marcus_tasks",
        Kind::Gauge,
        "Tasks by project and status, read from storage at scrape time",
    ),
    family(
        "marcus_open_connections",
        Kind::Gauge,
        "Client connections open within the cap, at scrape time",
    ),
    family(
        "marcus_busy_slots",
        Kind::Gauge,
        "Execution slots running a request, at scrape time",
    ),
    family(
        "marcus_connections_refused_total",
        Kind::Counter,
        "Connections over the cap, by answer (503, or closed when refusals were also full)",
    ),
    family(
        "marcus_request_body_timeouts_total",
        Kind::Counter,
        "Requests answered 408 because their body did not arrive in time",
    ),
    family(
        "marcus_header_timeouts_total",
        Kind::Counter,
        "Connections closed because a request head did not arrive in time (idle included)",
    ),
    family(
        "marcus_accept_errors_total",
        Kind::Counter,
        "Failed accepts (such as a full descriptor table)",
    ),
    family(
        "marcus_webhook_destinations_refused_total",
        Kind::Counter,
        "Webhook deliveries refused because the destination resolved to a non-public address",
    ),
    family(
        "marcus_auth_refused_total",
        Kind::Counter,
        "Requests refused because their bearer token was unknown, revoked, expired or not valid",
    ),
    family(
        "marcus_rate_limited_total",
        Kind::Counter,
        "Requests refused with 429 because their principal's or address's budget was spent",
    ),
];

/// What the running server is made of: the label values its series carry.
#[derive(Debug, Clone)]
pub struct Startup {
    /// The storage backend's label (sqlite, postgres).
    pub storage: &'static str,
    /// The realtime backend's label (in-process, redis).
    pub realtime: &'static str,
    /// The cache layers that count reads (memory, and redis when configured).
    pub cache_layers: Vec<&'static str>,
}

/// One series: family name and label pairs.
pub type Series = (&'static str, Vec<(&'static str, String)>);

/// The storage operations the metered wrapper times.
pub const STORAGE_OPERATIONS: [&str; 21] = [
    "get",
    "get_many",
    "put",
    "put_many",
    "delete",
    "change",
    "audit_list",
    "audit_scan",
    "audit_tenants",
    "audit_checkpoints",
    "audit_head",
    "audit_add_checkpoint",
    "audit_prune",
    "query",
    "count",
    "list_collections",
    "scan",
    "stats",
    "import",
    "meta",
    "set_meta",
];

/// How a storage operation can fail.
pub const STORAGE_ERROR_KINDS: [&str; 5] = [
    "not_found",
    "conflict",
    "invalid",
    "unavailable",
    "internal",
];

/// Lease events counted from the realtime stream.
pub const LEASE_EVENTS: [&str; 3] = ["granted", "renewed", "expired"];

/// Push transports.
pub const PUSH_TRANSPORTS: [&str; 2] = ["sse", "websocket"];

/// Job-runner tick outcomes.
pub const JOB_RUN_OUTCOMES: [&str; 2] = ["ok", "failed"];

/// Answers to a connection over the cap.
pub const OVER_CAPACITY_ANSWERS: [&str; 2] = ["503", "closed"];

/// The route through which agents make most cached reads.
const MCP_ROUTE: &str = "/mcp";

fn labels(pairs: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
}

/// The series every scrape shows from the start, at zero.
pub fn zero_series(startup: &Startup) -> Vec<Series> {
    let mut out: Vec<Series> = Vec::new();
    let metrics_route = route_label("/metrics");
    out.push((
        "marcus_http_requests_total",
        labels(&[
            ("route", &metrics_route),
            ("method", "GET"),
            ("status", "200"),
        ]),
    ));
    out.push((
        "marcus_http_request_duration_seconds",
        labels(&[("route", &metrics_route), ("method", "GET")]),
    ));
    out.push(("marcus_component_instantiation_seconds", vec![]));
    for operation in STORAGE_OPERATIONS {
        let pair = [("backend", startup.storage), ("operation", operation)];
        out.push(("marcus_storage_operation_duration_seconds", labels(&pair)));
        for kind in STORAGE_ERROR_KINDS {
            out.push((
                "marcus_storage_errors_total",
                labels(&[pair[0], pair[1], ("kind", kind)]),
            ));
        }
    }
    out.push((
        "marcus_storage_cas_conflicts_total",
        labels(&[("backend", startup.storage)]),
    ));
    for (interface, function) in call_count::FUNCTIONS {
        out.push((
            "marcus_platform_calls_total",
            labels(&[("interface", interface), ("function", function)]),
        ));
    }
    for layer in &startup.cache_layers {
        for result in ["hit", "miss"] {
            out.push((
                "marcus_cache_requests_total",
                labels(&[("layer", layer), ("result", result)]),
            ));
        }
    }
    for transport in PUSH_TRANSPORTS {
        out.push((
            "marcus_push_subscribers",
            labels(&[("transport", transport)]),
        ));
    }
    out.push((
        "marcus_realtime_events_published_total",
        labels(&[("backend", startup.realtime)]),
    ));
    for event in LEASE_EVENTS {
        out.push(("marcus_leases_total", labels(&[("event", event)])));
    }
    for kind in job_kinds::ALL {
        for outcome in job_kinds::OUTCOMES {
            out.push((
                "marcus_jobs_total",
                labels(&[("job", kind), ("outcome", outcome)]),
            ));
        }
    }
    for outcome in JOB_RUN_OUTCOMES {
        out.push(("marcus_job_runs_total", labels(&[("outcome", outcome)])));
    }
    for result in read_cache::OUTCOMES {
        out.push((
            "marcus_read_cache_total",
            labels(&[("route", MCP_ROUTE), ("result", result)]),
        ));
    }
    for reason in request_guard::REFUSALS {
        out.push((
            "marcus_requests_refused_total",
            labels(&[("reason", reason)]),
        ));
    }
    for answer in OVER_CAPACITY_ANSWERS {
        out.push((
            "marcus_connections_refused_total",
            labels(&[("answer", answer)]),
        ));
    }
    for name in [
        "marcus_open_connections",
        "marcus_busy_slots",
        "marcus_request_body_timeouts_total",
        "marcus_header_timeouts_total",
        "marcus_accept_errors_total",
        "marcus_webhook_destinations_refused_total",
        "marcus_auth_refused_total",
        "marcus_rate_limited_total",
    ] {
        out.push((name, vec![]));
    }
    out
}

/// The family called `name`.
pub fn find(name: &str) -> Option<&'static Family> {
    FAMILIES.iter().find(|f| f.name == name)
}

/// `# HELP` and `# TYPE` lines for the families `rendered` does not mention yet, so every
/// family is in the scrape even before its first series exists.
pub fn describe_missing(rendered: &str) -> String {
    let mut out = String::new();
    for f in FAMILIES {
        let typed = format!("# TYPE {} ", f.name);
        if !rendered.contains(&typed) {
            out.push_str(&format!(
                "# HELP {} {}\n# TYPE {} {}\n\n",
                f.name,
                f.help,
                f.name,
                f.kind.type_name()
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn startup() -> Startup {
        Startup {
            storage: "sqlite",
            realtime: "in-process",
            cache_layers: vec!["memory"],
        }
    }

    #[test]
    fn every_zero_series_belongs_to_a_described_family() {
        for (name, _) in zero_series(&startup()) {
            assert!(find(name).is_some(), "{name} is not in FAMILIES");
        }
    }

    #[test]
    fn families_are_named_once() {
        let mut names: Vec<&str> = FAMILIES.iter().map(|f| f.name).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len());
    }

    #[test]
    fn missing_families_are_described_and_present_ones_left_alone() {
        let rendered =
            "# HELP marcus_tasks x\n# TYPE marcus_tasks gauge\nmarcus_tasks{a=\"b\"} 1\n";
        let added = describe_missing(rendered);
        assert!(!added.contains("# TYPE marcus_tasks "), "{added}");
        assert!(
            added.contains("# TYPE marcus_http_requests_total counter\n"),
            "{added}"
        );
        assert_eq!(
            added.matches("# TYPE ").count(),
            FAMILIES.len() - 1,
            "{added}"
        );
    }
}
