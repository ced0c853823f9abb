//! Which task an agent gets next, and when to ask again if none is ready.
//!
//! One task per agent is the caller's rule: it hands an agent's live task back before
//! asking [`pick_next`] for another. The order itself is [`ranking`]'s.

use super::annotate::annotate;
use super::graph::find_cycles;
use super::model::{Agent, Millis, Task, TaskStatus};
use super::ranking;
use std::collections::{HashMap, HashSet};

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

/// The task `agent` should get from the whole board: the board annotated as storage holds
/// it, then the first of [`ranking::ranked`]; the same inputs always give the same answer.
pub fn pick_next(agent: &Agent, tasks: &[Task], now: Millis) -> Option<String> {
    let mut board = tasks.to_vec();
    annotate(&mut board);
    ranking::ranked(agent, &board, now).into_iter().next()
}

/// The longest wait suggested to a polling agent, in seconds.
pub const MAX_RETRY_SECS: u64 = 30;

/// At most this many task names in a reason; the rest are counted.
const NAMES_IN_REASON: usize = 4;

fn name_list(tasks: &[&Task]) -> String {
    let mut names: Vec<&str> = tasks
        .iter()
        .take(NAMES_IN_REASON)
        .map(|t| t.name.as_str())
        .collect();
    let more = tasks.len().saturating_sub(NAMES_IN_REASON);
    let more = format!("and {more} more");
    if tasks.len() > NAMES_IN_REASON {
        names.push(&more);
    }
    names.join(", ")
}

/// When to ask again while nothing is ready (1-30 s) and why, from the actual leases and
/// dependencies: the soonest moment something can change.
///
/// - tasks ready: 1 s (another claim won the race);
/// - waiting work depends (directly or through other todo tasks) on tasks in progress:
///   a sixth of the time left on their soonest lease, at most 10 s, because a completion
///   can come any moment ("waiting for dependencies: X, Y ...");
/// - otherwise, leases held: until the soonest lease expires ("... lease ... expires");
/// - nothing in progress but blocked tasks: 30 s, naming the blocked tasks;
/// - nothing at all can move: 30 s, "gridlock" with its cause;
/// - all done (or no tasks): 30 s.
pub fn retry_after(tasks: &[Task], now: Millis) -> (u64, String) {
    let secs = |ms: u64| ms.div_ceil(1000).clamp(1, MAX_RETRY_SECS);
    if tasks.is_empty() {
        return (MAX_RETRY_SECS, "the project has no tasks yet".into());
    }
    let by_id: HashMap<&str, &Task> = tasks.iter().map(|t| (t.id.as_str(), t)).collect();
    let open: Vec<&Task> = tasks
        .iter()
        .filter(|t| t.status != TaskStatus::Done)
        .collect();
    if open.is_empty() {
        return (MAX_RETRY_SECS, "all tasks are complete".into());
    }
    let ready = ready_tasks(tasks, now);
    if !ready.is_empty() {
        return (
            1,
            format!(
                "{} task(s) became ready ({}); ask again now",
                ready.len(),
                name_list(&ready)
            ),
        );
    }
    let lease_end = |t: &Task| t.lease.as_ref().map_or(now, |l| l.expires_at);
    let mut held: Vec<&Task> = open
        .iter()
        .copied()
        .filter(|t| t.status == TaskStatus::InProgress)
        .collect();
    held.sort_by_key(|t| (lease_end(t), t.id.as_str()));
    let blocked: Vec<&Task> = open
        .iter()
        .copied()
        .filter(|t| t.status == TaskStatus::Blocked)
        .collect();

    // Unfinished tasks the waiting todo work needs, followed through todo dependencies.
    let mut needed: HashSet<&str> = HashSet::new();
    let mut missing: Vec<String> = Vec::new();
    let mut stack: Vec<&Task> = open
        .iter()
        .copied()
        .filter(|t| t.status == TaskStatus::Todo)
        .collect();
    while let Some(t) = stack.pop() {
        for d in &t.dependencies {
            match by_id.get(d.as_str()) {
                None => missing.push(format!("{} needs missing task {d}", t.name)),
                Some(dep) if dep.status != TaskStatus::Done && needed.insert(dep.id.as_str()) => {
                    if dep.status == TaskStatus::Todo {
                        stack.push(dep);
                    }
                }
                Some(_) => {}
            }
        }
    }

    if let Some(soonest) = held.first() {
        let until = lease_end(soonest).saturating_sub(now);
        let deps: Vec<&Task> = held
            .iter()
            .copied()
            .filter(|t| needed.contains(t.id.as_str()))
            .collect();
        if let Some(first_dep) = deps.first() {
            let dep_until = lease_end(first_dep).saturating_sub(now);
            return (
                secs(dep_until / 6).min(10).min(secs(until)),
                format!(
                    "waiting for dependencies: {} (in progress; the soonest of their leases ends in {} s)",
                    name_list(&deps),
                    dep_until.div_ceil(1000)
                ),
            );
        }
        let mut reason = format!(
            "no task is ready; {} task(s) in progress ({}), the soonest lease ({}) expires in {} s",
            held.len(),
            name_list(&held),
            soonest.name,
            until.div_ceil(1000)
        );
        if !blocked.is_empty() {
            reason.push_str(&format!("; blocked: {}", name_list(&blocked)));
        }
        return (secs(until), reason);
    }
    if !blocked.is_empty() {
        return (
            MAX_RETRY_SECS,
            format!(
                "remaining work waits on {} blocked task(s) ({}); resolve_blocker or unassign_task returns them to the pool",
                blocked.len(),
                name_list(&blocked)
            ),
        );
    }
    let cause = match find_cycles(tasks).first() {
        Some(cycle) => {
            let names: Vec<&str> = cycle
                .iter()
                .filter_map(|id| by_id.get(id.as_str()))
                .map(|t| t.name.as_str())
                .collect();
            format!("dependency cycle: {} -> {}", names.join(" -> "), names[0])
        }
        None if !missing.is_empty() => {
            missing.sort();
            missing.dedup();
            missing.join(", ")
        }
        None => "dependencies cannot be satisfied".into(),
    };
    (
        MAX_RETRY_SECS,
        format!(
            "gridlock: {} todo task(s) but none is ready and none is in progress ({cause})",
            open.len()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::board::graph::tests::{skilled, task};
    use crate::board::lease;
    use crate::board::model::{Lease, Priority};
    use crate::board::ranking::skill_match;

    fn done(mut t: Task) -> Task {
        t.status = TaskStatus::Done;
        t
    }

    #[test]
    fn only_tasks_with_done_dependencies_are_ready() {
        let tasks = vec![task("a", &[], 1.0), task("b", &["a"], 1.0)];
        assert_eq!(pick_next(&skilled("ag", &[]), &tasks, 0), Some("a".into()));
        let tasks = vec![done(task("a", &[], 1.0)), task("b", &["a"], 1.0)];
        assert_eq!(pick_next(&skilled("ag", &[]), &tasks, 0), Some("b".into()));
        let leased = lease::assign(&task("a", &[], 1.0), "x", 0, 100);
        assert_eq!(
            pick_next(&skilled("ag", &[]), std::slice::from_ref(&leased), 50_000),
            None
        );
        assert_eq!(
            pick_next(&skilled("ag", &[]), &[leased], 100_000),
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
            pick_next(&skilled("ag", &[]), &[low.clone(), urgent], 0),
            Some("urgent".into())
        );

        let mut rust = task("rust", &[], 1.0);
        rust.labels = vec!["Rust".into()];
        rust.created_at = 10;
        let plain = task("plain", &[], 1.0);
        assert_eq!(
            pick_next(&skilled("ag", &["rust"]), &[plain.clone(), rust.clone()], 0),
            Some("rust".into())
        );
        assert_eq!(
            pick_next(&skilled("ag", &["go"]), &[rust.clone(), plain.clone()], 0),
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
            pick_next(&skilled("ag", &[]), &[lone, head, tail], 0),
            Some("head".into())
        );
    }

    #[test]
    fn deterministic_tie_break_by_id() {
        let tasks = vec![task("b", &[], 1.0), task("a", &[], 1.0)];
        assert_eq!(pick_next(&skilled("ag", &[]), &tasks, 0), Some("a".into()));
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
        assert_eq!(
            reason,
            "waiting for dependencies: a (in progress; the soonest of their leases ends in 12 s)"
        );

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

    fn in_progress(id: &str, deps: &[&str], agent: &str, expires_at: Millis) -> Task {
        let mut t = task(id, deps, 1.0);
        t.status = TaskStatus::InProgress;
        t.assigned_to = Some(agent.into());
        t.lease = Some(Lease {
            agent_id: agent.into(),
            token: 1,
            granted_at: 0,
            expires_at,
            renewals: 0,
        });
        t
    }

    fn ids(tasks: Vec<&Task>) -> Vec<&str> {
        tasks.into_iter().map(|t| t.id.as_str()).collect()
    }

    #[test]
    fn ready_means_todo_unleased_with_done_dependencies() {
        let mut blocked = task("blocked", &[], 1.0);
        blocked.status = TaskStatus::Blocked;
        let tasks = vec![
            done(task("a", &[], 1.0)),
            task("b", &["a"], 1.0),
            task("c", &["b"], 1.0),
            task("d", &["missing"], 1.0),
            blocked,
            in_progress("live", &[], "x", 1_000),
            in_progress("lapsed", &[], "x", 500),
        ];
        assert_eq!(ids(ready_tasks(&tasks, 500)), vec!["b", "lapsed"]);
        assert_eq!(ids(ready_tasks(&tasks, 1_000)), vec!["b", "live", "lapsed"]);
    }

    #[test]
    fn in_progress_without_a_lease_is_reclaimable() {
        let mut t = task("t", &[], 1.0);
        t.status = TaskStatus::InProgress;
        assert_eq!(ids(ready_tasks(std::slice::from_ref(&t), 0)), vec!["t"]);
    }

    #[test]
    fn skill_match_counts_labels_case_insensitively() {
        let mut t = task("t", &[], 1.0);
        t.labels = vec!["Rust".into(), "API".into(), "docs".into()];
        assert_eq!(skill_match(&skilled("ag", &["rust", "api"]), &t), 2);
        assert_eq!(skill_match(&skilled("ag", &[]), &t), 0);
    }

    #[test]
    fn priority_beats_skill_and_skill_beats_weight() {
        let mut urgent = task("urgent", &[], 1.0);
        urgent.priority = Priority::Urgent;
        let mut matching = task("skilled", &[], 1.0);
        matching.labels = vec!["rust".into()];
        let heavy = task("heavy", &[], 50.0);
        let a = skilled("ag", &["rust"]);
        let all = vec![heavy.clone(), matching.clone(), urgent];
        assert_eq!(pick_next(&a, &all, 0), Some("urgent".into()));
        assert_eq!(
            pick_next(&a, &[heavy.clone(), matching], 0),
            Some("skilled".into())
        );
        let light = task("light", &[], 1.0);
        assert_eq!(pick_next(&a, &[light, heavy], 0), Some("heavy".into()));
    }

    #[test]
    fn older_tasks_first_then_lower_id_whatever_the_input_order() {
        let mut young = task("a", &[], 1.0);
        young.created_at = 9;
        let mut old = task("z", &[], 1.0);
        old.created_at = 1;
        let a = skilled("ag", &[]);
        assert_eq!(
            pick_next(&a, &[young.clone(), old.clone()], 0),
            Some("z".into())
        );
        assert_eq!(pick_next(&a, &[old, young], 0), Some("z".into()));
        assert_eq!(pick_next(&a, &[], 0), None);
    }

    #[test]
    fn retry_after_with_nothing_or_something_ready() {
        assert_eq!(retry_after(&[], 0).0, 30);
        let (s, reason) = retry_after(&[task("a", &[], 1.0)], 0);
        assert_eq!(s, 1);
        assert!(reason.contains("ready"), "{reason}");
    }

    #[test]
    fn retry_after_follows_dependencies_through_todo_tasks() {
        let tasks = vec![
            in_progress("a", &[], "x", 60_000),
            task("b", &["a"], 1.0),
            task("c", &["b"], 1.0),
            in_progress("other", &[], "y", 30_000),
        ];
        let (s, reason) = retry_after(&tasks, 0);
        assert_eq!(s, 10, "a sixth of 60 s");
        assert!(
            reason.starts_with("waiting for dependencies: a ("),
            "{reason}"
        );
        assert!(!reason.contains("other"), "{reason}");
        // Never longer than the soonest lease anywhere.
        let (s, _) = retry_after(&tasks, 28_500);
        assert_eq!(s, 2);
    }

    #[test]
    fn retry_after_waits_for_the_soonest_lease_when_no_one_waits_on_it() {
        let mut blocked = task("stuck", &[], 1.0);
        blocked.status = TaskStatus::Blocked;
        let tasks = vec![
            in_progress("a", &[], "x", 20_000),
            in_progress("b", &[], "y", 45_000),
            blocked.clone(),
            task("c", &["stuck"], 1.0),
        ];
        let (s, reason) = retry_after(&tasks, 4_000);
        assert_eq!(s, 16);
        assert!(
            reason.contains("soonest lease (a) expires in 16 s"),
            "{reason}"
        );
        assert!(reason.contains("blocked: stuck"), "{reason}");
        let (s, _) = retry_after(&tasks, 0);
        assert_eq!(s, 20);
        let (s, _) = retry_after(&[in_progress("b", &[], "y", 45_000)], 0);
        assert_eq!(s, 30, "clamped to 30 s");
    }

    #[test]
    fn retry_after_names_blocked_tasks_and_gridlock_causes() {
        let mut blocked = task("stuck", &[], 1.0);
        blocked.status = TaskStatus::Blocked;
        let (s, reason) = retry_after(&[blocked, task("c", &["stuck"], 1.0)], 0);
        assert_eq!(s, 30);
        assert!(
            reason.contains("stuck") && reason.contains("resolve_blocker"),
            "{reason}"
        );

        let (_, reason) = retry_after(&[task("a", &["b"], 1.0), task("b", &["a"], 1.0)], 0);
        assert_eq!(
            reason,
            "gridlock: 2 todo task(s) but none is ready and none is in progress (dependency cycle: a -> b -> a)"
        );
        let (_, reason) = retry_after(&[task("a", &["gone"], 1.0)], 0);
        assert!(
            reason.starts_with("gridlock") && reason.contains("a needs missing task gone"),
            "{reason}"
        );
    }

    #[test]
    fn long_name_lists_are_counted() {
        let tasks: Vec<Task> = (0..6).map(|i| task(&format!("t{i}"), &[], 1.0)).collect();
        let refs: Vec<&Task> = tasks.iter().collect();
        assert_eq!(name_list(&refs), "t0, t1, t2, t3, and 2 more");
    }
}
