//! Which task an agent gets next, and when to ask again if none is ready.

use super::graph::critical_path_weight;
use super::model::{Agent, Millis, Task, TaskStatus};
use std::cmp::Ordering;
use std::collections::HashMap;

/// Whether `t` can be handed out now: todo and unleased (or in progress under an expired
/// lease), with every dependency done.
pub fn is_ready(t: &Task, status_of: &HashMap<&str, TaskStatus>, now: Millis) -> bool {
    let free = match t.status {
        TaskStatus::Todo => t.lease.as_ref().is_none_or(|l| l.expires_at <= now),
        TaskStatus::InProgress => t.lease.as_ref().is_none_or(|l| l.expires_at <= now),
        _ => false,
    };
    free && t
        .dependencies
        .iter()
        .all(|d| status_of.get(d.as_str()) == Some(&TaskStatus::Done))
}

/// Every task that can be handed out now.
pub fn ready_tasks(tasks: &[Task], now: Millis) -> Vec<&Task> {
    let status_of: HashMap<&str, TaskStatus> =
        tasks.iter().map(|t| (t.id.as_str(), t.status)).collect();
    tasks
        .iter()
        .filter(|t| is_ready(t, &status_of, now))
        .collect()
}

/// How many of a task's labels the agent has as skills (case-insensitive).
pub fn skill_match(agent: &Agent, task: &Task) -> usize {
    task.labels
        .iter()
        .filter(|l| agent.skills.iter().any(|s| s.eq_ignore_ascii_case(l)))
        .count()
}

/// The task `agent` should get: priority, then skill match, then critical-path weight,
/// then age, then id; the same inputs always give the same answer.
pub fn pick_next(agent: &Agent, tasks: &[Task], now: Millis) -> Option<String> {
    let ready = ready_tasks(tasks, now);
    if ready.is_empty() {
        return None;
    }
    let weight = critical_path_weight(tasks);
    ready
        .into_iter()
        .min_by(|a, b| {
            b.priority
                .cmp(&a.priority)
                .then_with(|| skill_match(agent, b).cmp(&skill_match(agent, a)))
                .then_with(|| {
                    let wa = weight.get(&a.id).copied().unwrap_or(0.0);
                    let wb = weight.get(&b.id).copied().unwrap_or(0.0);
                    wb.partial_cmp(&wa).unwrap_or(Ordering::Equal)
                })
                .then_with(|| a.created_at.cmp(&b.created_at))
                .then_with(|| a.id.cmp(&b.id))
        })
        .map(|t| t.id.clone())
}

/// When to ask again while nothing is ready (1-30 s) and why, from the actual leases and
/// dependencies: the soonest moment something can change.
pub fn retry_after(tasks: &[Task], now: Millis) -> (u64, String) {
    let clamp = |ms: u64| ms.div_ceil(1000).clamp(1, 30);
    let open: Vec<&Task> = tasks
        .iter()
        .filter(|t| t.status != TaskStatus::Done)
        .collect();
    if tasks.is_empty() {
        return (30, "the project has no tasks yet".into());
    }
    if open.is_empty() {
        return (30, "all tasks are complete".into());
    }
    let in_progress: Vec<&Task> = open
        .iter()
        .copied()
        .filter(|t| t.status == TaskStatus::InProgress)
        .collect();
    let blocked: Vec<&Task> = open
        .iter()
        .copied()
        .filter(|t| t.status == TaskStatus::Blocked)
        .collect();
    let waiting = open.iter().filter(|t| t.status == TaskStatus::Todo).count();
    if let Some(soonest) = in_progress
        .iter()
        .filter_map(|t| t.lease.as_ref())
        .map(|l| l.expires_at)
        .min()
    {
        let names: Vec<&str> = in_progress
            .iter()
            .take(3)
            .map(|t| t.name.as_str())
            .collect();
        if waiting > 0 {
            // Dependencies are being worked on: completion can come any moment, so check
            // back well before the soonest lease could lapse.
            let until = soonest.saturating_sub(now);
            return (
                clamp(until / 6).min(10),
                format!(
                    "{waiting} task(s) wait for dependencies in progress ({}); the soonest lease ends in {} s",
                    names.join(", "),
                    until.div_ceil(1000)
                ),
            );
        }
        let until = soonest.saturating_sub(now);
        return (
            clamp(until),
            format!(
                "every remaining task is assigned ({}); the soonest lease ends in {} s",
                names.join(", "),
                until.div_ceil(1000)
            ),
        );
    }
    if !blocked.is_empty() {
        let names: Vec<&str> = blocked.iter().take(3).map(|t| t.name.as_str()).collect();
        return (
            30,
            format!(
                "remaining work waits on {} blocked task(s) ({}); resolve_blocker or unassign_task returns them to the pool",
                blocked.len(),
                names.join(", ")
            ),
        );
    }
    (
        30,
        "gridlock: tasks are waiting but none is ready and none is in progress (check dependencies with check_board_health)".into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::board::graph::tests::task;
    use crate::board::lease;
    use crate::board::model::{Lease, Priority};

    fn agent(skills: &[&str]) -> Agent {
        Agent {
            id: "ag".into(),
            name: "ag".into(),
            role: String::new(),
            skills: skills.iter().map(|s| s.to_string()).collect(),
            project_id: None,
            status: Default::default(),
            current_task_id: None,
            completed_tasks_count: 0,
            registered_at: 0,
            last_seen: 0,
        }
    }

    fn done(mut t: Task) -> Task {
        t.status = TaskStatus::Done;
        t
    }

    #[test]
    fn only_tasks_with_done_dependencies_are_ready() {
        let tasks = vec![task("a", &[], 1.0), task("b", &["a"], 1.0)];
        assert_eq!(pick_next(&agent(&[]), &tasks, 0), Some("a".into()));
        let tasks = vec![done(task("a", &[], 1.0)), task("b", &["a"], 1.0)];
        assert_eq!(pick_next(&agent(&[]), &tasks, 0), Some("b".into()));
        let leased = lease::assign(&task("a", &[], 1.0), "x", 0, 100);
        assert_eq!(
            pick_next(&agent(&[]), std::slice::from_ref(&leased), 50_000),
            None
        );
        assert_eq!(
            pick_next(&agent(&[]), &[leased], 100_000),
            Some("a".into()),
            "expired lease"
        );
    }

    #[test]
    fn order_priority_skill_weight_age() {
        let mut low = task("low", &[], 1.0);
        low.priority = Priority::Low;
        let mut urgent = task("urgent", &[], 1.0);
        urgent.priority = Priority::Urgent;
        assert_eq!(
            pick_next(&agent(&[]), &[low.clone(), urgent], 0),
            Some("urgent".into())
        );

        let mut rust = task("rust", &[], 1.0);
        rust.labels = vec!["Rust".into()];
        rust.created_at = 10;
        let plain = task("plain", &[], 1.0);
        assert_eq!(
            pick_next(&agent(&["rust"]), &[plain.clone(), rust.clone()], 0),
            Some("rust".into())
        );
        assert_eq!(
            pick_next(&agent(&["go"]), &[rust.clone(), plain.clone()], 0),
            Some("plain".into()),
            "age"
        );

        // Critical path: "head" unlocks a long chain.
        let mut head = task("head", &[], 1.0);
        head.created_at = 5;
        let tail = task("tail", &["head"], 10.0);
        let mut lone = task("lone", &[], 1.0);
        lone.created_at = 1;
        assert_eq!(
            pick_next(&agent(&[]), &[lone, head, tail], 0),
            Some("head".into())
        );
    }

    #[test]
    fn deterministic_tie_break_by_id() {
        let tasks = vec![task("b", &[], 1.0), task("a", &[], 1.0)];
        assert_eq!(pick_next(&agent(&[]), &tasks, 0), Some("a".into()));
    }

    #[test]
    fn retry_after_reflects_state() {
        let all_done = vec![done(task("a", &[], 1.0))];
        assert_eq!(
            retry_after(&all_done, 0),
            (30, "all tasks are complete".into())
        );

        let mut held = task("a", &[], 1.0);
        held.status = TaskStatus::InProgress;
        held.lease = Some(Lease {
            agent_id: "x".into(),
            token: 1,
            granted_at: 0,
            expires_at: 12_000,
            renewals: 0,
        });
        let (s, reason) = retry_after(&[held.clone()], 0);
        assert_eq!(s, 12);
        assert!(reason.contains("lease"), "{reason}");

        let waiting = vec![held.clone(), task("b", &["a"], 1.0)];
        let (s, reason) = retry_after(&waiting, 0);
        assert_eq!(s, 2);
        assert!(reason.contains("wait for dependencies"), "{reason}");

        let mut blocked = task("a", &[], 1.0);
        blocked.status = TaskStatus::Blocked;
        let (s, reason) = retry_after(&[blocked, task("b", &["a"], 1.0)], 0);
        assert_eq!(s, 30);
        assert!(reason.contains("blocked"), "{reason}");

        let gridlock = vec![task("a", &["b"], 1.0), task("b", &["a"], 1.0)];
        assert!(retry_after(&gridlock, 0).1.starts_with("gridlock"));
        let (s, _) = retry_after(&[held], 11_500);
        assert_eq!(s, 1, "never below 1 s");
    }
}
