//! The stored job queue's rules: what a job record holds and how it moves between states.
//! Hosts share one queue through storage; every transition here is applied with
//! compare-and-swap by the caller, so two runners never both hold a claim.

pub mod backoff;
pub mod kinds;
pub mod record;

pub use record::{Job, JobStatus};
