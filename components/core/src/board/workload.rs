//! What an agent is doing at the moment it is read. The stored agent record says which task
//! it was last given, but a lease can lapse without anyone writing to the agent, so every
//! reader (tools, the JSON API, the dashboard, board health) derives the agent's status from
//! the lease here, at the time of the read, instead of trusting the stored status.

use super::claim;
use super::model::{Agent, AgentStatus, Millis, Task};
use schemars::JsonSchema;
use serde::Serialize;

/// `working` while the agent holds its current task under a live lease at `now`
/// ([`claim::holds_live`]), otherwise `available`: the one rule for an agent's status.
/// `current` is the agent's current task as read (`None` when it has none or it is gone).
pub fn status(agent: &Agent, current: Option<&Task>, now: Millis) -> AgentStatus {
    match current {
        Some(task) if claim::holds_live(agent, task, now) => AgentStatus::Working,
        _ => AgentStatus::Available,
    }
}

/// The agent's performance score, from 0 to 1 (two decimals): of the tasks handed to it
/// whose hand-off has ended (completed, blocked, unassigned or lapsed, that is every claim
/// except the task it still holds), the share it completed. An agent none of whose
/// hand-offs has ended yet scores 1, upstream's starting score.
pub fn performance_score(agent: &Agent, holds_a_task: bool) -> f64 {
    let ended = agent
        .assigned_tasks_count
        .saturating_sub(u64::from(holds_a_task))
        // Records from before claims were counted have completions but no claims.
        .max(agent.completed_tasks_count);
    if ended == 0 {
        return 1.0;
    }
    (agent.completed_tasks_count as f64 * 100.0 / ended as f64).round() / 100.0
}

/// An agent as answered to readers: the record with its status derived from its lease at
/// the time of the read, plus upstream's names for what it holds and has done.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct AgentView {
    /// The record; `status` is derived ([`status`]) and `current_task_id` is kept only
    /// while the agent holds that task under a live lease.
    #[serde(flatten)]
    pub agent: Agent,
    /// Ids of the tasks it holds under a live lease (at most one).
    pub current_tasks: Vec<String>,
    /// Tasks it completed (upstream's name for `completed_tasks_count`).
    pub total_completed: u64,
    /// The share of its ended hand-offs it completed, from 0 to 1 ([`performance_score`]).
    pub performance_score: f64,
}

/// `agent` as it stands at `now`, given its current task as read.
pub fn view(agent: &Agent, current: Option<&Task>, now: Millis) -> AgentView {
    let status = status(agent, current, now);
    let holds = status == AgentStatus::Working;
    let mut record = agent.clone();
    record.status = status;
    if !holds {
        record.current_task_id = None;
    }
    AgentView {
        current_tasks: record.current_task_id.iter().cloned().collect(),
        total_completed: agent.completed_tasks_count,
        performance_score: performance_score(agent, holds),
        agent: record,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::board::graph::tests::{agent, task};
    use crate::board::lease;

    fn holding(id: &str, task_id: &str) -> Agent {
        let mut a = agent(id);
        a.status = AgentStatus::Working;
        a.current_task_id = Some(task_id.into());
        a.assigned_tasks_count = 1;
        a
    }

    #[test]
    fn working_only_while_the_lease_is_live() {
        let a = holding("a", "t");
        let held = lease::assign(&task("t", &[], 1.0), "a", 0, 10);
        assert_eq!(status(&a, Some(&held), 5_000), AgentStatus::Working);
        assert_eq!(
            status(&a, Some(&held), 10_000),
            AgentStatus::Available,
            "the lease lapsed at 10 s"
        );
        assert_eq!(status(&a, None, 5_000), AgentStatus::Available);
        let taken_over = lease::assign(&held, "b", 20_000, 10);
        assert_eq!(
            status(&a, Some(&taken_over), 21_000),
            AgentStatus::Available,
            "another agent holds it now"
        );
    }

    #[test]
    fn the_view_derives_status_and_what_the_agent_holds() {
        let a = holding("a", "t");
        let held = lease::assign(&task("t", &[], 1.0), "a", 0, 10);
        let live = view(&a, Some(&held), 1_000);
        assert_eq!(live.agent.status, AgentStatus::Working);
        assert_eq!(live.current_tasks, vec!["t"]);
        assert_eq!(live.agent.current_task_id.as_deref(), Some("t"));
        let lapsed = view(&a, Some(&held), 11_000);
        assert_eq!(lapsed.agent.status, AgentStatus::Available);
        assert!(lapsed.current_tasks.is_empty());
        assert_eq!(lapsed.agent.current_task_id, None);
        let v = serde_json::to_value(&lapsed).unwrap();
        assert_eq!(v["status"], "available");
        assert_eq!(v["id"], "a");
        assert_eq!(v["total_completed"], 0);
    }

    #[test]
    fn performance_is_the_share_of_ended_hand_offs_completed() {
        let mut a = agent("a");
        assert_eq!(performance_score(&a, false), 1.0, "nothing ended yet");
        a.assigned_tasks_count = 1;
        assert_eq!(performance_score(&a, true), 1.0, "the only claim is held");
        assert_eq!(performance_score(&a, false), 0.0, "it ended uncompleted");
        a.assigned_tasks_count = 4;
        a.completed_tasks_count = 2;
        assert_eq!(performance_score(&a, true), 0.67);
        assert_eq!(performance_score(&a, false), 0.5);
        a.assigned_tasks_count = 0;
        assert_eq!(performance_score(&a, false), 1.0, "records without claims");
    }
}
