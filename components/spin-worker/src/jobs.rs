//! The registered background jobs.

mod project_health;

use crate::job::Job;

pub use project_health::ProjectHealth;

/// Every job, in the order they run for an event.
pub fn all() -> Vec<Box<dyn Job>> {
    vec![Box::new(ProjectHealth)]
}
