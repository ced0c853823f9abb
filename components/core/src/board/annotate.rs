//! Derived fields stored on every task (reverse edges, dependencies left, critical-path
//! weight), recomputed whenever the graph changes so claims never walk the whole board.

use super::graph::{critical_path_weight, dependents};
use super::model::{Agent, Millis, Task, TaskStatus};
use super::scheduler::skill_match;
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

/// Claimable candidates in the order the scheduler would hand them to `agent`.
pub fn ranked_candidates(agent: &Agent, candidates: &[Task], now: Millis) -> Vec<String> {
    let mut ranked: Vec<&Task> = candidates.iter().filter(|t| claimable(t, now)).collect();
    ranked.sort_by(|a, b| {
        b.priority
            .cmp(&a.priority)
            .then_with(|| skill_match(agent, b).cmp(&skill_match(agent, a)))
            .then_with(|| b.critical_weight.total_cmp(&a.critical_weight))
            .then_with(|| a.created_at.cmp(&b.created_at))
            .then_with(|| a.id.cmp(&b.id))
    });
    ranked.into_iter().map(|t| t.id.clone()).collect()
}

/// How many of the best candidates a retry spreads over.
pub const CONTENDED_SPREAD: usize = 8;

/// The candidate to try on claim attempt `attempt` (0 = first). The first attempt takes the
/// best task; after a lost race, agents spread over the best few (by a hash of their id and
/// the attempt) instead of all queueing on the same next-best task, which under load would
/// make every attempt but one lose again.
pub fn contended_pick<'a>(
    ranked: &'a [String],
    agent_id: &str,
    attempt: usize,
) -> Option<&'a String> {
    if attempt == 0 || ranked.len() < 2 {
        return ranked.first();
    }
    // FNV-1a: stable across hosts and builds, unlike the std hasher.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in agent_id.bytes().chain(attempt.to_le_bytes()) {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let width = ranked.len().min(CONTENDED_SPREAD);
    ranked.get((h % width as u64) as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::board::graph::tests::task;
    use crate::board::scheduler::pick_next;

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

    #[test]
    fn retries_spread_over_the_best_few() {
        let ranked: Vec<String> = (0..20).map(|i| format!("t{i}")).collect();
        for agent in ["a", "b", "c"] {
            assert_eq!(contended_pick(&ranked, agent, 0), Some(&ranked[0]));
        }
        let picks: std::collections::HashSet<&String> = (0..32)
            .map(|n| contended_pick(&ranked, &format!("agent-{n}"), 1).unwrap())
            .collect();
        assert!(picks.len() >= 4, "32 agents should spread, got {picks:?}");
        assert!(picks.iter().all(|p| ranked[..CONTENDED_SPREAD].contains(p)));
        assert_eq!(contended_pick(&ranked[..1], "a", 5), Some(&ranked[0]));
        assert_eq!(contended_pick(&[], "a", 0), None);
    }

    #[test]
    fn the_ranking_agrees_with_the_full_scheduler() {
        let mut tasks = vec![
            task("a", &[], 1.0),
            task("b", &[], 1.0),
            task("c", &["a"], 5.0),
            task("d", &["b"], 1.0),
        ];
        annotate(&mut tasks);
        let agent = Agent {
            id: "x".into(),
            name: "x".into(),
            role: String::new(),
            skills: vec![],
            project_id: None,
            status: Default::default(),
            current_task_id: None,
            completed_tasks_count: 0,
            registered_at: 0,
            last_seen: 0,
        };
        let candidates: Vec<Task> = tasks
            .iter()
            .filter(|t| t.deps_remaining == 0)
            .cloned()
            .collect();
        assert_eq!(
            ranked_candidates(&agent, &candidates, 0).into_iter().next(),
            pick_next(&agent, &tasks, 0)
        );
        assert_eq!(
            ranked_candidates(&agent, &candidates, 0)
                .first()
                .map(String::as_str),
            Some("a"),
            "a unlocks the heavier chain"
        );
    }
}
