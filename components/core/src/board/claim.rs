//! The claim decision of `request_next_task`, as pure functions over what a claim read:
//! which task to try, whether it may be handed out, and the records to write. The app
//! only loads what these functions ask for and stores what they return, so every rule of a
//! claim is unit-tested here without storage or a second agent.

use super::model::{Agent, AgentStatus, Millis, Task, TaskStatus};
use super::{lease, ranking};

/// Whether `agent` already holds a live lease on `held` (its current task): one task per
/// agent, so such a claim hands the same task back unchanged.
pub fn holds_live(agent: &Agent, held: &Task, now: Millis) -> bool {
    agent.current_task_id.as_deref() == Some(held.id.as_str())
        && held.status == TaskStatus::InProgress
        && held
            .lease
            .as_ref()
            .is_some_and(|l| l.agent_id == agent.id && l.expires_at > now)
}

/// What a claim attempt does next, given the candidates it read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// Try to claim this task.
    Try(String),
    /// Every candidate went to faster agents during this call: forget the lost ones and
    /// read the board again.
    LookAgain,
    /// Nothing can be handed out now.
    NothingReady,
}

/// The task to try on attempt `attempt`, from the candidates read (todo tasks with no
/// dependency left and in-progress ones whose lease may have lapsed), leaving out those
/// this call already lost a race for. After a lost race agents spread over the best few
/// ([`ranking::contended_pick`]) instead of queueing on the same next-best task.
pub fn choose(
    agent: &Agent,
    candidates: &[Task],
    lost: &[String],
    attempt: usize,
    now: Millis,
) -> Choice {
    let open: Vec<Task> = candidates
        .iter()
        .filter(|t| !lost.contains(&t.id))
        .cloned()
        .collect();
    let ranked = ranking::ranked(agent, &open, now);
    let spread = if lost.is_empty() { 0 } else { attempt };
    match ranking::contended_pick(&ranked, &agent.id, spread) {
        Some(pick) => Choice::Try(pick.clone()),
        None if !lost.is_empty() => Choice::LookAgain,
        None => Choice::NothingReady,
    }
}

/// A claim's writes: the task under its new lease, the agent working on it, and the lease
/// that lapsed on the way (its holder and recovery note), if any.
#[derive(Debug, Clone)]
pub struct Assignment {
    /// The task, in progress under the new lease.
    pub task: Task,
    /// The agent, working on the task.
    pub agent: Agent,
    /// The fencing token of the new lease.
    pub token: u64,
    /// The lease that expired before this claim took the task over.
    pub expired: Option<ExpiredLease>,
}

/// A lapsed lease a claim took over: logged so the board's history says who lost the task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiredLease {
    /// Who held the lease.
    pub previous_holder: String,
    /// The note left for the next holder.
    pub recovery_note: Option<String>,
}

/// Why a chosen task may not be handed out after all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotReady(pub String);

/// Hands `task` to `agent` under a `lease_seconds` lease, after checking the dependency
/// records themselves (`dependencies` as read; the counter on the task said none is left,
/// and a done task never becomes undone, so what is verified here stays true). `now` must be
/// read after the dependencies were, so a task never starts before what it waited for.
pub fn assign(
    task: &Task,
    dependencies: &[Task],
    agent: &Agent,
    now: Millis,
    lease_seconds: u64,
) -> Result<Assignment, NotReady> {
    if dependencies.len() != task.dependencies.len()
        || dependencies.iter().any(|d| d.status != TaskStatus::Done)
    {
        return Err(NotReady(format!(
            "{} is counted ready but a dependency is not done",
            task.id
        )));
    }
    let expired = lease::expire_if_due(task, now).map(|t| ExpiredLease {
        previous_holder: task
            .lease
            .as_ref()
            .map(|l| l.agent_id.clone())
            .unwrap_or_default(),
        recovery_note: t.recovery_note,
    });
    let assigned = lease::assign(task, &agent.id, now, lease_seconds);
    let token = assigned.lease.as_ref().map_or(0, |l| l.token);
    let mut working = agent.clone();
    working.status = AgentStatus::Working;
    working.current_task_id = Some(assigned.id.clone());
    working.assigned_tasks_count += 1;
    working.last_seen = now;
    Ok(Assignment {
        task: assigned,
        agent: working,
        token,
        expired,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::board::graph::tests::{agent, task};
    use crate::board::model::Lease;

    fn leased(id: &str, holder: &str, expires_at: Millis) -> Task {
        let mut t = task(id, &[], 1.0);
        t.status = TaskStatus::InProgress;
        t.assigned_to = Some(holder.into());
        t.lease_counter = 1;
        t.lease = Some(Lease {
            agent_id: holder.into(),
            token: 1,
            granted_at: 0,
            expires_at,
            renewals: 0,
        });
        t
    }

    #[test]
    fn a_live_lease_of_the_agent_is_handed_back() {
        let mut a = agent("a");
        a.current_task_id = Some("t".into());
        assert!(holds_live(&a, &leased("t", "a", 10_000), 5_000));
        assert!(!holds_live(&a, &leased("t", "a", 10_000), 10_000), "lapsed");
        assert!(
            !holds_live(&a, &leased("t", "b", 10_000), 5_000),
            "not its lease"
        );
        a.current_task_id = Some("other".into());
        assert!(!holds_live(&a, &leased("t", "a", 10_000), 5_000));
    }

    #[test]
    fn the_best_candidate_first_then_spread_after_lost_races() {
        let mut urgent = task("urgent", &[], 1.0);
        urgent.priority = crate::board::model::Priority::High;
        let candidates = vec![task("plain", &[], 1.0), urgent];
        let a = agent("a");
        assert_eq!(
            choose(&a, &candidates, &[], 0, 0),
            Choice::Try("urgent".into())
        );
        assert_eq!(
            choose(&a, &candidates, &["urgent".into()], 1, 0),
            Choice::Try("plain".into())
        );
        let all_lost = ["urgent".to_string(), "plain".to_string()];
        assert_eq!(choose(&a, &candidates, &all_lost, 2, 0), Choice::LookAgain);
        assert_eq!(choose(&a, &[], &[], 0, 0), Choice::NothingReady);
    }

    #[test]
    fn a_live_lease_of_another_agent_is_not_a_candidate() {
        let candidates = vec![leased("held", "b", 10_000)];
        assert_eq!(
            choose(&agent("a"), &candidates, &[], 0, 5_000),
            Choice::NothingReady
        );
        assert_eq!(
            choose(&agent("a"), &candidates, &[], 0, 10_000),
            Choice::Try("held".into())
        );
    }

    #[test]
    fn assignment_checks_the_dependency_records() {
        let mut t = task("t", &["d"], 1.0);
        t.deps_remaining = 0;
        let mut d = task("d", &[], 1.0);
        let a = agent("a");
        assert!(assign(&t, &[d.clone()], &a, 1, 180).is_err(), "d is todo");
        assert!(assign(&t, &[], &a, 1, 180).is_err(), "d is missing");
        d.status = TaskStatus::Done;
        let done = assign(&t, &[d], &a, 1_000, 180).expect("ready");
        assert_eq!(done.task.status, TaskStatus::InProgress);
        assert_eq!(done.task.assigned_to.as_deref(), Some("a"));
        assert_eq!(done.token, 1);
        assert_eq!(done.task.lease.as_ref().unwrap().expires_at, 181_000);
        assert_eq!(done.agent.status, AgentStatus::Working);
        assert_eq!(done.agent.current_task_id.as_deref(), Some("t"));
        assert_eq!(done.agent.last_seen, 1_000);
        assert_eq!(done.agent.assigned_tasks_count, 1, "the claim is counted");
        assert_eq!(done.expired, None);
    }

    #[test]
    fn taking_over_a_lapsed_lease_names_its_holder_and_fences_it_out() {
        let t = leased("t", "b", 5_000);
        let taken = assign(&t, &[], &agent("a"), 6_000, 180).expect("lapsed");
        let expired = taken.expired.expect("the lapse is reported");
        assert_eq!(expired.previous_holder, "b");
        assert!(expired.recovery_note.unwrap().contains("(b)"));
        assert_eq!(taken.token, 2, "the old holder's token no longer fences");
        assert!(taken.task.recovery_note.is_some());
    }
}
