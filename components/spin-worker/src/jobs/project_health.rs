//! Recomputes a project's board health after each of its events and caches it, so readers
//! get a fresh answer without scanning the board themselves.

use crate::event_message::EventMessage;
use crate::job::Job;
use crate::platform_store;
use marcus_core::board::health;
use marcus_core::board::model::{Agent, Task};

/// How long a cached health report stays valid without a newer event.
pub const HEALTH_TTL_SECONDS: u32 = 600;

/// The cache key of a project's health report.
pub fn health_cache_key(project_id: &str) -> String {
    format!("health:{project_id}")
}

/// The project-health job.
pub struct ProjectHealth;

impl Job for ProjectHealth {
    fn name(&self) -> &'static str {
        "project-health"
    }

    fn wants(&self, event: &EventMessage) -> bool {
        event.project_id().is_some()
    }

    fn run(&self, event: &EventMessage) -> Result<(), String> {
        let project_id = event
            .project_id()
            .ok_or_else(|| format!("{} is not a project channel", event.channel))?;
        let tasks: Vec<Task> =
            platform_store::query_all("tasks", &[("project_id", serde_json::json!(project_id))])?;
        let agents: Vec<Agent> = platform_store::query_all::<Agent>("agents", &[])?
            .into_iter()
            .filter(|a| a.project_id.as_deref().is_none_or(|p| p == project_id))
            .collect();
        let report = health::board_health(&tasks, &agents, platform_store::now_ms());
        let body = serde_json::json!({
            "project_id": project_id,
            "health": report,
            "after_event": event.seq,
            "computed_at": platform_store::now_ms(),
        });
        platform_store::cache_json(&health_cache_key(project_id), &body, HEALTH_TTL_SECONDS)
    }
}
