//! Derived fields stored on every task (reverse edges, dependencies left, critical-path
//! weight), recomputed whenever the graph changes so claims never walk the whole board.

use super::graph::{critical_path_weight, dependents};
use super::model::{Millis, Task, TaskStatus};
use std::collections::HashMap;

/// Recomputes `dependents`, `deps_remaining` and `critical_weight` for every task of a
/// project; returns the ids whose stored fields changed.
pub fn annotate(tasks: &mut [Task]) -> Vec<String> {
    let weights = critical_path_weight(tasks);
    let reverse = dependents(tasks);
    let status: HashMap<String, TaskStatus> =
        tasks.iter().map(|t| (t.id.clone(), t.status)).collect();
    let mut changed = Vec::new();
    for t in tasks.iter_mut() {
        let mut deps_of: Vec<String> = reverse.get(&t.id).cloned().unwrap_or_default();
        deps_of.sort();
        let remaining = t
            .dependencies
            .iter()
            .filter(|d| status.get(*d) != Some(&TaskStatus::Done))
            .count() as u32;
        let weight = weights.get(&t.id).copied().unwrap_or(0.0);
        if t.dependents != deps_of || t.deps_remaining != remaining || t.critical_weight != weight {
            t.dependents = deps_of;
            t.deps_remaining = remaining;
            t.critical_weight = weight;
            changed.push(t.id.clone());
        }
    }
    changed
}

/// Whether a candidate can be handed out now, judged from its own record: todo (or in
/// progress under an expired lease) with no dependency left.
pub fn claimable(t: &Task, now: Millis) -> bool {
    let free = match t.status {
        TaskStatus::Todo | TaskStatus::InProgress => {
            t.lease.as_ref().is_none_or(|l| l.expires_at <= now)
        }
        _ => false,
    };
    free && t.deps_remaining == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::board::graph::tests::task;

    #[test]
    fn annotations_of_the_diamond() {
        let mut tasks = vec![
            task("a", &[], 2.0),
            task("b", &["a"], 3.0),
            task("c", &["a"], 1.0),
            task("d", &["b", "c"], 4.0),
        ];
        let changed = annotate(&mut tasks);
        assert_eq!(changed.len(), 4);
        assert_eq!(tasks[0].dependents, vec!["b", "c"]);
        assert_eq!(tasks[3].deps_remaining, 2);
        assert_eq!(tasks[0].critical_weight, 9.0);
        assert!(annotate(&mut tasks).is_empty(), "stable");
        tasks[0].status = TaskStatus::Done;
        assert_eq!(annotate(&mut tasks), vec!["b", "c"]);
        assert_eq!(tasks[1].deps_remaining, 0);
    }
}
