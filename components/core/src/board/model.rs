//! The board's records as stored (one JSON document each) and as returned to agents.
//! Field names follow upstream Marcus so agents and prompts written for it work unchanged.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch.
pub type Millis = u64;

/// Where a task is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Waiting to be handed out (possibly for its dependencies).
    #[default]
    Todo,
    /// Held by an agent under a lease.
    InProgress,
    /// Stopped by a blocker until someone resolves it.
    Blocked,
    /// Finished.
    Done,
}

impl TaskStatus {
    /// Every status by its API name, in life order: filters and schemas list exactly these.
    pub const NAMES: &'static [&'static str] = &["todo", "in_progress", "blocked", "done"];
}

crate::string_enum_schema!(TaskStatus, TaskStatus::NAMES);
crate::string_enum_schema!(Priority, &["low", "medium", "high", "urgent"]);
crate::string_enum_schema!(AgentStatus, &["available", "working"]);

/// How urgent a task is; higher goes first.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Whenever.
    Low,
    /// The default.
    #[default]
    Medium,
    /// Soon.
    High,
    /// Now.
    Urgent,
}

/// The `provider` Marcus reports for its boards: upstream names the kanban service that
/// keeps the board (planka, github, linear); Marcus keeps the board itself, in whichever
/// storage backend the host runs on, so its boards' provider is always Marcus.
pub const PROVIDER: &str = "marcus";

/// A project: a board of tasks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Project {
    /// Stable id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// What the project is about.
    #[serde(default)]
    pub description: String,
    /// Lease length at assignment for this project, in seconds (default 180).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_seconds: Option<u64>,
    /// Free labels people group projects by (upstream's project tags).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Creation time.
    pub created_at: Millis,
}

/// The lease under which an agent holds a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Lease {
    /// The holder.
    pub agent_id: String,
    /// Fencing token: grows with every assignment of this task, so a report carrying an
    /// older token (or from another agent) is recognisably stale.
    pub token: u64,
    /// When the lease was granted.
    pub granted_at: Millis,
    /// When it lapses unless renewed by a progress report.
    pub expires_at: Millis,
    /// How many times it was renewed.
    #[serde(default)]
    pub renewals: u32,
}

/// A unit of work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Task {
    /// Stable id.
    pub id: String,
    /// The project it belongs to.
    pub project_id: String,
    /// That project's name, written with the task (projects are never renamed), so a task
    /// handed to an agent names its project without another read; empty on tasks stored
    /// before it was kept.
    #[serde(default)]
    pub project_name: String,
    /// Short name (unique within the project, used for dependency references).
    pub name: String,
    /// What to do.
    #[serde(default)]
    pub description: String,
    /// Lifecycle state.
    #[serde(default)]
    pub status: TaskStatus,
    /// Urgency.
    #[serde(default)]
    pub priority: Priority,
    /// Labels, matched against agent skills.
    #[serde(default)]
    pub labels: Vec<String>,
    /// Ids of tasks that must be done first.
    #[serde(default)]
    pub dependencies: Vec<String>,
    /// Estimate in hours (used for the critical path).
    #[serde(default)]
    pub estimated_hours: f64,
    /// Conditions for done.
    #[serde(default)]
    pub acceptance_criteria: Vec<String>,
    /// Current holder, if any.
    #[serde(default)]
    pub assigned_to: Option<String>,
    /// Percent complete, 0-100.
    #[serde(default)]
    pub progress: u8,
    /// The live lease while in progress.
    #[serde(default)]
    pub lease: Option<Lease>,
    /// Highest fencing token ever issued for this task.
    #[serde(default)]
    pub lease_counter: u64,
    /// Set when a lease expired: what the next holder should know.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_note: Option<String>,
    /// The lease that ran out while the task sat in the pool unclaimed since: its holder's
    /// late completion still counts while its fencing token is the latest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lapsed_lease: Option<Lease>,
    /// Dependencies not yet done, kept up to date on every completion, so a claim reads
    /// only the tasks that can be handed out instead of the whole board.
    #[serde(default)]
    pub deps_remaining: u32,
    /// Ids of the tasks that depend on this one (the reverse edges).
    #[serde(default)]
    pub dependents: Vec<String>,
    /// Hours of work on the longest chain from this task to the end of the graph.
    #[serde(default)]
    pub critical_weight: f64,
    /// Creation order within the project (ties broken by it: older first).
    pub created_at: Millis,
    /// Last change.
    pub updated_at: Millis,
    /// First assignment.
    #[serde(default)]
    pub started_at: Option<Millis>,
    /// Completion.
    #[serde(default)]
    pub completed_at: Option<Millis>,
    /// Agent that completed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_by: Option<String>,
}

/// Whether an agent is working.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AgentStatus {
    /// Registered, no task.
    #[default]
    Available,
    /// Holding a task.
    Working,
}

/// A registered agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Agent {
    /// Id chosen by the agent.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Role, e.g. "Backend Developer".
    #[serde(default)]
    pub role: String,
    /// Skills matched against task labels.
    #[serde(default)]
    pub skills: Vec<String>,
    /// Default project for project-scoped calls.
    #[serde(default)]
    pub project_id: Option<String>,
    /// Working or available.
    #[serde(default)]
    pub status: AgentStatus,
    /// The task it holds.
    #[serde(default)]
    pub current_task_id: Option<String>,
    /// Tasks it completed.
    #[serde(default)]
    pub completed_tasks_count: u64,
    /// Tasks handed to it (each claim counts once), the denominator of its performance
    /// score.
    #[serde(default)]
    pub assigned_tasks_count: u64,
    /// Registration time.
    pub registered_at: Millis,
    /// Last call from it.
    pub last_seen: Millis,
}

/// One progress report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgressEntry {
    /// Task reported on.
    pub task_id: String,
    /// Project of the task.
    pub project_id: String,
    /// Reporter.
    pub agent_id: String,
    /// in_progress, completed or blocked.
    pub status: String,
    /// Percent.
    pub progress: u8,
    /// Free text.
    #[serde(default)]
    pub message: String,
    /// When.
    pub timestamp: Millis,
}

/// A blocker: stops a task until resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Blocker {
    /// Stable id.
    pub id: String,
    /// Blocked task.
    pub task_id: String,
    /// Project of the task.
    pub project_id: String,
    /// Reporter.
    pub agent_id: String,
    /// What blocks.
    pub description: String,
    /// low, medium, high.
    pub severity: String,
    /// When reported.
    pub reported_at: Millis,
    /// Set when resolved.
    #[serde(default)]
    pub resolved_at: Option<Millis>,
    /// How it was resolved.
    #[serde(default)]
    pub resolution: Option<String>,
    /// Who resolved it.
    #[serde(default)]
    pub resolved_by: Option<String>,
}

/// An architectural or implementation decision, readable by later tasks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Decision {
    /// Stable id.
    pub id: String,
    /// Task it belongs to.
    pub task_id: String,
    /// Project of the task.
    pub project_id: String,
    /// Who decided.
    pub agent_id: String,
    /// The decision text.
    pub decision: String,
    /// When.
    pub timestamp: Millis,
}

/// Where Marcus keeps artifact `id`: the `location` agents are given for it.
pub fn artifact_location(id: &str) -> String {
    format!("marcus://artifacts/{id}")
}

/// A file-like output of a task, stored by Marcus so agents need no shared disk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Artifact {
    /// Stable id.
    pub id: String,
    /// Task it belongs to.
    pub task_id: String,
    /// Project of the task.
    pub project_id: String,
    /// Who logged it.
    #[serde(default)]
    pub agent_id: Option<String>,
    /// File name, e.g. api-spec.yaml.
    pub filename: String,
    /// specification, api, design, documentation, code, test, ...
    pub artifact_type: String,
    /// What it is.
    #[serde(default)]
    pub description: String,
    /// The content itself.
    pub content: String,
    /// Size in bytes.
    pub size_bytes: u64,
    /// When.
    pub timestamp: Millis,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_names_are_the_serialized_names() {
        let all = [
            TaskStatus::Todo,
            TaskStatus::InProgress,
            TaskStatus::Blocked,
            TaskStatus::Done,
        ];
        let names: Vec<String> = all
            .iter()
            .map(|s| {
                serde_json::to_value(s)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(names, TaskStatus::NAMES);
    }
}
