//! The coordination board: agents, tasks, leases, dependencies and health, as pure
//! functions over records, so every rule is unit-tested without storage.

pub mod annotate;
pub mod context;
pub mod graph;
pub mod health;
pub mod lease;
pub mod model;
pub mod scheduler;
