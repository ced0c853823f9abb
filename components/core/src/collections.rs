//! The board's storage collections, named once for the app that keeps them and the hosts
//! that count them (tenant quotas, gauges).

/// Projects.
pub const PROJECTS: &str = "projects";
/// Tasks.
pub const TASKS: &str = "tasks";
/// Agents.
pub const AGENTS: &str = "agents";
/// Progress reports.
pub const PROGRESS: &str = "progress";
/// Blockers.
pub const BLOCKERS: &str = "blockers";
/// Decisions.
pub const DECISIONS: &str = "decisions";
/// Artifacts.
pub const ARTIFACTS: &str = "artifacts";
/// The append-only event log.
pub const EVENTS: &str = "events";
/// The background job queue.
pub const JOBS: &str = "jobs";
/// Webhook subscriptions.
pub const WEBHOOKS: &str = "webhooks";
/// One record per webhook delivery with its attempts.
pub const WEBHOOK_DELIVERIES: &str = "webhook_deliveries";
/// MCP sessions.
pub const MCP_SESSIONS: &str = "mcp_sessions";
