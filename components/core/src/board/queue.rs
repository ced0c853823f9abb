//! The task queue as people watch it: ready work in the order agents receive it, work in
//! progress with its lease, work waiting on dependencies and blocked work with its reasons.
//! Agents only ever see the head of the queue; people need the whole of it to see why work
//! does or does not flow.

use super::graph::critical_path_weight;
use super::model::{Blocker, Millis, Priority, Task, TaskStatus};
use super::ranking::hand_out_order;
use super::scheduler::ready_tasks;
use serde::Serialize;
use std::collections::HashMap;

/// A ready task and its place in the hand-out order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReadyEntry {
    /// 1 = the next agent without a matching skill gets it.
    pub position: usize,
    /// Task id.
    pub id: String,
    /// Task name.
    pub name: String,
    /// Urgency, the first sort key.
    pub priority: Priority,
    /// Labels: an agent whose skills match them may jump the order.
    pub labels: Vec<String>,
    /// Hours of work waiting behind it, the tie-breaker after priority and skills.
    pub critical_weight: f64,
    /// True when the task was in progress and its holder's lease lapsed: the next claim
    /// takes it over.
    pub reclaims_expired_lease: bool,
}

/// A task under a live lease.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InProgressEntry {
    /// Task id.
    pub id: String,
    /// Task name.
    pub name: String,
    /// The holder.
    pub agent_id: String,
    /// Last reported percent.
    pub progress: u8,
    /// When the lease lapses unless renewed.
    pub lease_expires_at: Millis,
    /// Seconds left on the lease (rounded up).
    pub lease_seconds_left: u64,
}

/// A dependency that is not done yet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PendingDependency {
    /// Task id.
    pub id: String,
    /// Task name; the id again when the task does not exist.
    pub name: String,
    /// todo, in_progress, blocked, or missing.
    pub status: String,
}

/// A todo task that cannot start yet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WaitingEntry {
    /// Task id.
    pub id: String,
    /// Task name.
    pub name: String,
    /// Urgency.
    pub priority: Priority,
    /// The dependencies it waits for.
    pub waiting_on: Vec<PendingDependency>,
}

/// An open blocker, as shown beside its task.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BlockerNote {
    /// Blocker id (for resolving it).
    pub id: String,
    /// What blocks.
    pub description: String,
    /// low, medium, high.
    pub severity: String,
    /// Who reported it.
    pub agent_id: String,
    /// When.
    pub reported_at: Millis,
}

/// A blocked task and what blocks it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BlockedEntry {
    /// Task id.
    pub id: String,
    /// Task name.
    pub name: String,
    /// Its open blockers, oldest first.
    pub blockers: Vec<BlockerNote>,
}

/// A finished task.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DoneEntry {
    /// Task id.
    pub id: String,
    /// Task name.
    pub name: String,
    /// Who completed it.
    pub completed_by: Option<String>,
    /// When.
    pub completed_at: Option<Millis>,
}

/// How many finished tasks the queue lists.
pub const RECENTLY_DONE: usize = 10;

/// The whole queue of a project.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskQueue {
    /// Ready tasks in hand-out order.
    pub ready: Vec<ReadyEntry>,
    /// Tasks under live leases, soonest expiry first.
    pub in_progress: Vec<InProgressEntry>,
    /// Todo tasks waiting on dependencies, in the order they were created.
    pub waiting: Vec<WaitingEntry>,
    /// Blocked tasks, oldest blocker first.
    pub blocked: Vec<BlockedEntry>,
    /// How many tasks are done.
    pub done: usize,
    /// The last [`RECENTLY_DONE`] finished tasks, newest first.
    pub recently_done: Vec<DoneEntry>,
}

/// Builds the queue of `tasks` at `now`; `blockers` may hold any blockers of the project
/// (resolved ones are ignored).
pub fn task_queue(tasks: &[Task], blockers: &[Blocker], now: Millis) -> TaskQueue {
    let by_id: HashMap<&str, &Task> = tasks.iter().map(|t| (t.id.as_str(), t)).collect();
    let weight = critical_path_weight(tasks);
    let mut ready = ready_tasks(tasks, now);
    // The scheduler's order for an agent whose skills match none of the tasks.
    ready.sort_by(|a, b| hand_out_order(None, a, b, |t| weight.get(&t.id).copied().unwrap_or(0.0)));
    let ready_ids: Vec<&str> = ready.iter().map(|t| t.id.as_str()).collect();
    let ready_entries = ready
        .iter()
        .enumerate()
        .map(|(i, t)| ReadyEntry {
            position: i + 1,
            id: t.id.clone(),
            name: t.name.clone(),
            priority: t.priority,
            labels: t.labels.clone(),
            critical_weight: weight.get(&t.id).copied().unwrap_or(0.0),
            reclaims_expired_lease: t.status == TaskStatus::InProgress,
        })
        .collect();

    let mut in_progress: Vec<InProgressEntry> = tasks
        .iter()
        .filter(|t| t.status == TaskStatus::InProgress)
        .filter_map(|t| {
            let lease = t.lease.as_ref().filter(|l| l.expires_at > now)?;
            Some(InProgressEntry {
                id: t.id.clone(),
                name: t.name.clone(),
                agent_id: lease.agent_id.clone(),
                progress: t.progress,
                lease_expires_at: lease.expires_at,
                lease_seconds_left: (lease.expires_at - now).div_ceil(1000),
            })
        })
        .collect();
    in_progress.sort_by(|a, b| {
        a.lease_expires_at
            .cmp(&b.lease_expires_at)
            .then_with(|| a.id.cmp(&b.id))
    });

    let mut waiting_tasks: Vec<&Task> = tasks
        .iter()
        .filter(|t| t.status == TaskStatus::Todo && !ready_ids.contains(&t.id.as_str()))
        .collect();
    waiting_tasks.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
    let waiting = waiting_tasks
        .into_iter()
        .map(|t| WaitingEntry {
            id: t.id.clone(),
            name: t.name.clone(),
            priority: t.priority,
            waiting_on: t
                .dependencies
                .iter()
                .filter_map(|d| match by_id.get(d.as_str()) {
                    Some(dep) if dep.status == TaskStatus::Done => None,
                    Some(dep) => Some(PendingDependency {
                        id: dep.id.clone(),
                        name: dep.name.clone(),
                        status: status_name(dep.status).into(),
                    }),
                    None => Some(PendingDependency {
                        id: d.clone(),
                        name: d.clone(),
                        status: "missing".into(),
                    }),
                })
                .collect(),
        })
        .collect();

    let mut blocked: Vec<BlockedEntry> = tasks
        .iter()
        .filter(|t| t.status == TaskStatus::Blocked)
        .map(|t| {
            let mut notes: Vec<BlockerNote> = blockers
                .iter()
                .filter(|b| b.task_id == t.id && b.resolved_at.is_none())
                .map(|b| BlockerNote {
                    id: b.id.clone(),
                    description: b.description.clone(),
                    severity: b.severity.clone(),
                    agent_id: b.agent_id.clone(),
                    reported_at: b.reported_at,
                })
                .collect();
            notes.sort_by(|a, b| a.reported_at.cmp(&b.reported_at).then(a.id.cmp(&b.id)));
            BlockedEntry {
                id: t.id.clone(),
                name: t.name.clone(),
                blockers: notes,
            }
        })
        .collect();
    let first_report = |e: &BlockedEntry| e.blockers.first().map_or(u64::MAX, |b| b.reported_at);
    blocked.sort_by(|a, b| first_report(a).cmp(&first_report(b)).then(a.id.cmp(&b.id)));

    let mut finished: Vec<&Task> = tasks
        .iter()
        .filter(|t| t.status == TaskStatus::Done)
        .collect();
    finished.sort_by(|a, b| b.completed_at.cmp(&a.completed_at).then(a.id.cmp(&b.id)));
    let recently_done = finished
        .iter()
        .take(RECENTLY_DONE)
        .map(|t| DoneEntry {
            id: t.id.clone(),
            name: t.name.clone(),
            completed_by: t.completed_by.clone(),
            completed_at: t.completed_at,
        })
        .collect();

    TaskQueue {
        recently_done,
        ready: ready_entries,
        in_progress,
        waiting,
        blocked,
        done: tasks
            .iter()
            .filter(|t| t.status == TaskStatus::Done)
            .count(),
    }
}

/// The wire name of a status.
pub fn status_name(s: TaskStatus) -> &'static str {
    match s {
        TaskStatus::Todo => "todo",
        TaskStatus::InProgress => "in_progress",
        TaskStatus::Blocked => "blocked",
        TaskStatus::Done => "done",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::board::graph::tests::{agent, task};
    use crate::board::lease;
    use crate::board::scheduler::pick_next;

    fn blocker(id: &str, task_id: &str, at: Millis, resolved: bool) -> Blocker {
        Blocker {
            id: id.into(),
            task_id: task_id.into(),
            project_id: "p".into(),
            agent_id: "ag".into(),
            description: format!("{id} text"),
            severity: "high".into(),
            reported_at: at,
            resolved_at: resolved.then_some(at + 1),
            resolution: None,
            resolved_by: None,
        }
    }

    #[test]
    fn ready_order_is_the_order_agents_receive_tasks() {
        let mut tasks = vec![
            task("low", &[], 1.0),
            task("short", &[], 1.0),
            task("long_head", &[], 1.0),
            task("tail", &["long_head"], 5.0),
            task("urgent", &[], 1.0),
        ];
        tasks[0].priority = Priority::Low;
        tasks[4].priority = Priority::Urgent;
        let q = task_queue(&tasks, &[], 0);
        let order: Vec<&str> = q.ready.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(order, ["urgent", "long_head", "short", "low"]);
        assert_eq!(q.ready[0].position, 1);
        assert_eq!(q.ready[1].critical_weight, 6.0);
        // Taking the head each time reproduces the queue, claim after claim.
        let mut board = tasks.clone();
        for expected in &order {
            let next = pick_next(&agent("ag"), &board, 0).unwrap();
            assert_eq!(&next, expected);
            let i = board.iter().position(|t| t.id == next).unwrap();
            board[i] = lease::assign(&board[i], "ag", 0, 180);
        }
    }

    #[test]
    fn leases_dependencies_and_blockers_are_sorted_into_their_sections() {
        let mut tasks = vec![
            task("a", &[], 1.0),
            task("b", &["a"], 1.0),
            task("c", &["b", "ghost"], 1.0),
            task("d", &[], 1.0),
            task("e", &[], 1.0),
            task("f", &[], 1.0),
        ];
        tasks[0] = lease::assign(&tasks[0], "ag", 1_000, 180);
        tasks[3].status = TaskStatus::Blocked;
        tasks[4].status = TaskStatus::Done;
        tasks[5] = lease::assign(&tasks[5], "old", 0, 10);
        let blockers = [
            blocker("b2", "d", 50, false),
            blocker("b1", "d", 20, false),
            blocker("gone", "d", 10, true),
        ];
        let q = task_queue(&tasks, &blockers, 20_500);

        assert_eq!(q.in_progress.len(), 1);
        assert_eq!(q.in_progress[0].agent_id, "ag");
        assert_eq!(q.in_progress[0].lease_seconds_left, 161);

        assert_eq!(q.ready.len(), 1, "{:?}", q.ready);
        assert_eq!(q.ready[0].id, "f");
        assert!(q.ready[0].reclaims_expired_lease);

        let waits: Vec<(&str, Vec<(&str, &str)>)> = q
            .waiting
            .iter()
            .map(|w| {
                (
                    w.id.as_str(),
                    w.waiting_on
                        .iter()
                        .map(|d| (d.name.as_str(), d.status.as_str()))
                        .collect(),
                )
            })
            .collect();
        assert_eq!(
            waits,
            vec![
                ("b", vec![("a", "in_progress")]),
                ("c", vec![("b", "todo"), ("ghost", "missing")]),
            ]
        );

        assert_eq!(q.blocked.len(), 1);
        let texts: Vec<&str> = q.blocked[0]
            .blockers
            .iter()
            .map(|b| b.description.as_str())
            .collect();
        assert_eq!(texts, ["b1 text", "b2 text"]);
        assert_eq!(q.done, 1);
        assert_eq!(q.recently_done[0].id, "e");
    }

    #[test]
    fn recently_done_lists_the_newest_completions_first() {
        let tasks: Vec<Task> = (0..15)
            .map(|i| {
                let mut t = task(&format!("t{i:02}"), &[], 1.0);
                t.status = TaskStatus::Done;
                t.completed_at = Some(i);
                t
            })
            .collect();
        let q = task_queue(&tasks, &[], 100);
        assert_eq!(q.recently_done.len(), RECENTLY_DONE);
        assert_eq!(q.recently_done[0].id, "t14");
        assert_eq!(q.recently_done[9].id, "t05");
        assert_eq!(q.done, 15);
    }
}
