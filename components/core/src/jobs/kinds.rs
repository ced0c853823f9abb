//! The kinds of queued job: the app runs them, and a host labels its job metrics with them
//! from the start, before the first job of a kind ran.

/// The periodic sweep that returns tasks whose lease lapsed.
pub const LEASE_SWEEP: &str = "lease-sweep";
/// A project's status and health recomputed into the read cache after a change.
pub const PROJECT_HEALTH: &str = "project-health";
/// One webhook delivery with its retries.
pub const WEBHOOK_DELIVERY: &str = "webhook-delivery";

/// Every kind.
pub const ALL: [&str; 3] = [LEASE_SWEEP, PROJECT_HEALTH, WEBHOOK_DELIVERY];

/// A run that finished the job.
pub const SUCCEEDED: &str = "succeeded";
/// A run that failed and left the job queued for another attempt.
pub const RETRIED: &str = "retried";
/// A run that failed the last allowed attempt.
pub const DEAD: &str = "dead";
/// How a job's run ends, as the runner reports it.
pub const OUTCOMES: [&str; 3] = [SUCCEEDED, RETRIED, DEAD];
