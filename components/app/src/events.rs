//! Board events: appended to the durable event log in the same atomic change as the state
//! they describe, then published on the realtime capability for live readers.

use crate::bindings::commit::Announcement;
use crate::ids;
use crate::records::{Change, collections};
use marcus_core::api_error::ApiError;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One board event.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BoardEvent {
    /// Time-ordered id.
    pub id: String,
    /// task_assigned, task_progress, task_completed, task_blocked, ...
    pub kind: String,
    /// Project concerned, if any.
    #[serde(default)]
    pub project_id: Option<String>,
    /// Agent concerned, if any.
    #[serde(default)]
    pub agent_id: Option<String>,
    /// Task concerned, if any.
    #[serde(default)]
    pub task_id: Option<String>,
    /// Details.
    #[serde(default)]
    pub data: Value,
    /// When.
    pub timestamp: u64,
}

/// The events a change set records (new documents in the event log), decoded once for the
/// code that reacts to them (webhook fan-out, health recomputes).
pub fn recorded_in(writes: &[crate::bindings::storage::Write]) -> Vec<BoardEvent> {
    writes
        .iter()
        .filter(|w| {
            w.collection == crate::records::collections::EVENTS
                && matches!(w.expect, crate::bindings::storage::Expect::Absent)
        })
        .filter_map(|w| serde_json::from_str(&w.data).ok())
        .collect()
}

impl BoardEvent {
    /// A new event of `kind`.
    pub fn new(
        kind: &str,
        project_id: Option<&str>,
        agent_id: Option<&str>,
        task_id: Option<&str>,
        data: Value,
    ) -> Self {
        Self {
            id: ids::new_id("evt"),
            kind: kind.to_string(),
            project_id: project_id.map(str::to_string),
            agent_id: agent_id.map(str::to_string),
            task_id: task_id.map(str::to_string),
            data,
            timestamp: ids::now_ms(),
        }
    }

    /// The write that appends this event to the log.
    pub fn change(&self) -> Result<Change, ApiError> {
        Change::create(collections::EVENTS, &self.id, self)
    }

    /// Its announcements to live readers: on `project:<id>`, and on `agents` for agent
    /// events. A realtime outage only delays live readers; the log already has the event.
    pub fn announcements(&self) -> Vec<Announcement> {
        let payload = serde_json::to_string(self).unwrap_or_default();
        let mut channels = Vec::new();
        if let Some(p) = &self.project_id {
            channels.push(format!("project:{p}"));
        }
        if self.agent_id.is_some() {
            channels.push("agents".to_string());
        }
        channels
            .into_iter()
            .map(|channel| Announcement {
                channel,
                payload: payload.clone(),
            })
            .collect()
    }
}
