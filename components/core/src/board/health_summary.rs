//! The board health check summed up the way upstream reports it: a grade for the score,
//! the board's numbers, and what to do about each kind of issue found.

use super::health::BoardHealth;
use super::model::{Agent, AgentStatus, Millis, Task, TaskStatus};
use super::scheduler::ready_tasks;
use schemars::JsonSchema;
use serde::Serialize;

/// Upstream's grade of a 0-100 health score: excellent (>= 90), good (>= 75), fair (>= 60),
/// poor (>= 40), critical.
pub fn grade(score: u8) -> &'static str {
    match score {
        90.. => "excellent",
        75..=89 => "good",
        60..=74 => "fair",
        40..=59 => "poor",
        _ => "critical",
    }
}

/// The numbers a health check looked at.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct HealthMetrics {
    /// All tasks.
    pub total_tasks: usize,
    /// Waiting to be handed out.
    pub todo: usize,
    /// Held by an agent.
    pub in_progress: usize,
    /// Stopped by a blocker.
    pub blocked: usize,
    /// Finished.
    pub done: usize,
    /// Todo tasks whose dependencies are all done (and lapsed leases).
    pub ready_tasks: usize,
    /// Agents checked.
    pub agents: usize,
    /// Agents holding a task under a live lease.
    pub working_agents: usize,
    /// Issues by severity.
    pub critical_issues: usize,
    /// High issues.
    pub high_issues: usize,
    /// Medium issues.
    pub medium_issues: usize,
    /// Low issues.
    pub low_issues: usize,
}

/// The numbers of a check of `tasks` and `agents` (their status derived at `now`) that
/// found `health`.
pub fn metrics(
    tasks: &[Task],
    agents: &[Agent],
    health: &BoardHealth,
    now: Millis,
) -> HealthMetrics {
    let count = |s: TaskStatus| tasks.iter().filter(|t| t.status == s).count();
    let issues = |s: &str| health.issues.iter().filter(|i| i.severity == s).count();
    HealthMetrics {
        total_tasks: tasks.len(),
        todo: count(TaskStatus::Todo),
        in_progress: count(TaskStatus::InProgress),
        blocked: count(TaskStatus::Blocked),
        done: count(TaskStatus::Done),
        ready_tasks: ready_tasks(tasks, now).len(),
        agents: agents.len(),
        working_agents: agents
            .iter()
            .filter(|a| a.status == AgentStatus::Working)
            .count(),
        critical_issues: issues("critical"),
        high_issues: issues("high"),
        medium_issues: issues("medium"),
        low_issues: issues("low"),
    }
}

/// What to do about each issue found, most severe kinds first (one line per issue).
pub fn recommendations(health: &BoardHealth) -> Vec<String> {
    let rank = |s: &str| match s {
        "critical" => 0,
        "high" => 1,
        "medium" => 2,
        _ => 3,
    };
    let mut issues: Vec<_> = health.issues.iter().collect();
    issues.sort_by_key(|i| rank(&i.severity));
    issues
        .into_iter()
        .map(|i| {
            let action = match i.kind.as_str() {
                "cycle" => "remove one dependency of the cycle so its tasks can start",
                "gridlock" => "unblock or add the work the waiting tasks need",
                "blocked_task" => {
                    "resolve the blockers (resolve_blocker) to put the tasks back in the pool"
                }
                "overloaded_agent" => "return the extra tasks to the pool (unassign_task)",
                "bottleneck" => "hand this task out first: it frees the most waiting work",
                "stale_lease" => {
                    "the next request_next_task reclaims these tasks; check on their holders"
                }
                "long_chain" => "start the chain early; it sets the project's length",
                "skill_mismatch" => "register an agent with these skills or relabel the tasks",
                "idle_agent" => "have the idle agents call request_next_task",
                _ => "look into it",
            };
            format!("{action} ({})", i.message)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::board::graph::tests::{agent, task};
    use crate::board::health::board_health;

    #[test]
    fn grades_follow_upstream_bands() {
        let graded: Vec<&str> = [100, 90, 89, 75, 74, 60, 59, 40, 39, 0]
            .into_iter()
            .map(grade)
            .collect();
        assert_eq!(
            graded,
            vec![
                "excellent",
                "excellent",
                "good",
                "good",
                "fair",
                "fair",
                "poor",
                "poor",
                "critical",
                "critical"
            ]
        );
    }

    #[test]
    fn metrics_and_recommendations_follow_the_issues() {
        let cyclic = vec![task("a", &["b"], 1.0), task("b", &["a"], 1.0)];
        let mut working = agent("w");
        working.status = AgentStatus::Working;
        let agents = vec![agent("idle"), working];
        let h = board_health(&cyclic, &agents, 0);
        let m = metrics(&cyclic, &agents, &h, 0);
        assert_eq!((m.total_tasks, m.todo, m.ready_tasks), (2, 2, 0));
        assert_eq!((m.agents, m.working_agents, m.critical_issues), (2, 1, 2));
        let r = recommendations(&h);
        assert_eq!(r.len(), h.issues.len());
        assert!(r[0].starts_with("remove one dependency"), "{r:?}");
        assert!(recommendations(&board_health(&[], &[], 0)).is_empty());
    }
}
