//! The one order in which tasks are handed out: priority, then how well the agent's skills
//! match the task's labels, then the critical-path weight (work waiting behind the task),
//! then age, then id. Claims, the queue view and the whole-board scheduler all sort with
//! [`hand_out_order`], so what the queue shows is what agents receive.

use super::annotate::claimable;
use super::model::{Agent, Millis, Task};
use std::cmp::Ordering;

/// How many of a task's labels the agent has as skills (case-insensitive).
pub fn skill_match(agent: &Agent, task: &Task) -> usize {
    task.labels
        .iter()
        .filter(|l| agent.skills.iter().any(|s| s.eq_ignore_ascii_case(l)))
        .count()
}

/// Whether `a` goes out before `b` (`Less`) for `agent`; without an agent (the queue view)
/// skills count as matching none. `weight` is a task's critical-path weight.
pub fn hand_out_order(
    agent: Option<&Agent>,
    a: &Task,
    b: &Task,
    weight: impl Fn(&Task) -> f64,
) -> Ordering {
    let skills = |t: &Task| agent.map_or(0, |agent| skill_match(agent, t));
    b.priority
        .cmp(&a.priority)
        .then_with(|| skills(b).cmp(&skills(a)))
        .then_with(|| weight(b).total_cmp(&weight(a)))
        .then_with(|| a.created_at.cmp(&b.created_at))
        .then_with(|| a.id.cmp(&b.id))
}

/// Claimable candidates (annotated tasks) in the order they go to `agent`.
pub fn ranked(agent: &Agent, candidates: &[Task], now: Millis) -> Vec<String> {
    let mut ranked: Vec<&Task> = candidates.iter().filter(|t| claimable(t, now)).collect();
    ranked.sort_by(|a, b| hand_out_order(Some(agent), a, b, |t| t.critical_weight));
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
    use crate::board::annotate::annotate;
    use crate::board::graph::tests::{agent, task};
    use crate::board::scheduler::pick_next;

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
        let agent = agent("x");
        let candidates: Vec<Task> = tasks
            .iter()
            .filter(|t| t.deps_remaining == 0)
            .cloned()
            .collect();
        assert_eq!(
            ranked(&agent, &candidates, 0).into_iter().next(),
            pick_next(&agent, &tasks, 0)
        );
        assert_eq!(
            ranked(&agent, &candidates, 0).first().map(String::as_str),
            Some("a"),
            "a unlocks the heavier chain"
        );
    }
}
