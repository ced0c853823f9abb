//! The coordination board: agents, tasks, leases, dependencies and health, as pure
//! functions over records, so every rule is unit-tested without storage.

pub mod annotate;
pub mod blocker_advice;
pub mod burndown;
pub mod claim;
pub mod context;
pub mod dependency_report;
pub mod forecast;
pub mod graph;
pub mod handoff;
pub mod health;
pub mod health_summary;
pub mod lease;
pub mod model;
pub mod projection;
pub mod queue;
pub mod ranking;
pub mod risk;
pub mod scheduler;
pub mod timeline;
pub mod workload;
