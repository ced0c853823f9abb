//! Leases with fencing tokens: who holds a task, until when, and proof that a report comes
//! from the current holder. A stale holder can never renew, block or complete a task that
//! has since gone to someone else.

use super::model::{Lease, Millis, Task, TaskStatus};
use crate::api_error::ApiError;

/// Lease length at assignment, in seconds.
pub const LEASE_INITIAL_SECS: u64 = 180;

/// Lease length granted by a progress report at `progress` percent, in seconds: work
/// that is further along gets more slack.
pub fn renewal_secs(progress: u8) -> u64 {
    match progress {
        0..=24 => 240,
        25..=74 => 300,
        _ => 360,
    }
}

/// Hands `task` to `agent_id` under a fresh lease with the next fencing token (the caller
/// has checked it is ready). Taking over an expired lease writes the recovery note, as
/// [`expire_if_due`] would; an existing note is kept for the new holder.
pub fn assign(task: &Task, agent_id: &str, now: Millis, lease_seconds: u64) -> Task {
    let mut t = expire_if_due(task, now).unwrap_or_else(|| task.clone());
    t.lease_counter += 1;
    t.lapsed_lease = None;
    t.status = TaskStatus::InProgress;
    t.assigned_to = Some(agent_id.to_string());
    t.lease = Some(Lease {
        agent_id: agent_id.to_string(),
        token: t.lease_counter,
        granted_at: now,
        expires_at: now + lease_seconds.max(1) * 1000,
        renewals: 0,
    });
    t.started_at.get_or_insert(now);
    t.updated_at = now;
    t
}

/// If the task's lease has run out, the task back in the pool with a note for the next
/// holder (who held it, how far it got, when the lease lapsed); `None` when nothing expired.
pub fn expire_if_due(task: &Task, now: Millis) -> Option<Task> {
    let lease = task.lease.as_ref()?;
    if task.status != TaskStatus::InProgress || lease.expires_at > now {
        return None;
    }
    let mut t = task.clone();
    t.status = TaskStatus::Todo;
    t.assigned_to = None;
    t.lease = None;
    t.lapsed_lease = Some(lease.clone());
    t.recovery_note = Some(format!(
        "The previous holder ({}) let its lease expire at {} with {} % progress; check its artifacts and decisions for partial work before starting over.",
        lease.agent_id,
        utc(lease.expires_at),
        task.progress
    ));
    t.updated_at = now;
    Some(t)
}

/// When the first of `tasks`' live leases lapses after `now` (`None` without one): until
/// then, nothing about who holds what changes unless something is written.
pub fn next_lapse(tasks: &[Task], now: Millis) -> Option<Millis> {
    tasks
        .iter()
        .filter(|t| t.status == TaskStatus::InProgress)
        .filter_map(|t| t.lease.as_ref())
        .map(|l| l.expires_at)
        .filter(|&at| at > now)
        .min()
}

/// `ms` as ISO 8601 UTC, so notes read by people and agents carry a real date.
fn utc(ms: Millis) -> String {
    let secs = ms / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3_600,
        (rem % 3_600) / 60,
        rem % 60
    )
}

fn not_holder(task: &Task, agent_id: &str, why: &str) -> ApiError {
    ApiError::new(
        409,
        "not_task_holder",
        format!("agent {agent_id} does not hold task {}: {why}", task.id),
    )
}

/// The live lease of `agent_id` on `task` (and matching `token`, when given): the fence every
/// report passes. Otherwise `not_task_holder` (409) saying why.
pub fn check_holder<'t>(
    task: &'t Task,
    agent_id: &str,
    token: Option<u64>,
    now: Millis,
) -> Result<&'t Lease, ApiError> {
    let Some(lease) = task
        .lease
        .as_ref()
        .filter(|_| task.status == TaskStatus::InProgress)
    else {
        return Err(not_holder(
            task,
            agent_id,
            &format!("it is {}", status_word(task.status)),
        ));
    };
    if lease.agent_id != agent_id {
        return Err(not_holder(
            task,
            agent_id,
            "it is assigned to another agent",
        ));
    }
    if let Some(t) = token
        && t != lease.token
    {
        return Err(not_holder(
            task,
            agent_id,
            &format!("lease token {t} is stale (current {})", lease.token),
        ));
    }
    if lease.expires_at <= now {
        return Err(not_holder(
            task,
            agent_id,
            "its lease expired; request a new task",
        ));
    }
    Ok(lease)
}

fn status_word(s: TaskStatus) -> &'static str {
    match s {
        TaskStatus::Todo => "not assigned",
        TaskStatus::InProgress => "in progress",
        TaskStatus::Blocked => "blocked",
        TaskStatus::Done => "already done",
    }
}

/// The lease `agent_id` held on `task` until it ran out, when nobody has claimed the task
/// since (the lease's fencing token is still the task's latest) and `token`, if given, is
/// that lease's. An agent whose turn outlasted its lease keeps its work this way; once
/// another agent claims the task, the old holder's token is stale and this is `None`.
pub fn lapsed_hold<'t>(
    task: &'t Task,
    agent_id: &str,
    token: Option<u64>,
    now: Millis,
) -> Option<&'t Lease> {
    let lease = match task.status {
        TaskStatus::InProgress => task.lease.as_ref().filter(|l| l.expires_at <= now)?,
        TaskStatus::Todo => task.lapsed_lease.as_ref()?,
        TaskStatus::Blocked | TaskStatus::Done => return None,
    };
    (lease.agent_id == agent_id
        && lease.token == task.lease_counter
        && token.is_none_or(|t| t == lease.token))
    .then_some(lease)
}

/// Records progress by the holder and extends the lease to the renewal for that progress
/// (never shortening it). A holder whose lease lapsed gets it back (same fencing token)
/// when nobody claimed the task since and `still_on_it` (the agent has not moved on to
/// another task). Anyone else gets `not_task_holder` and nothing changes.
pub fn renew(
    task: &Task,
    agent_id: &str,
    token: Option<u64>,
    progress: u8,
    now: Millis,
    still_on_it: bool,
) -> Result<Task, ApiError> {
    let mut t = task.clone();
    if let Err(refused) = check_holder(task, agent_id, token, now) {
        let Some(lapsed) = lapsed_hold(task, agent_id, token, now).filter(|_| still_on_it) else {
            return Err(refused);
        };
        t.status = TaskStatus::InProgress;
        t.assigned_to = Some(agent_id.to_string());
        t.lease = Some(lapsed.clone());
        t.lapsed_lease = None;
        t.recovery_note = None;
    }
    t.progress = progress.min(100);
    if let Some(l) = t.lease.as_mut() {
        l.expires_at = l.expires_at.max(now + renewal_secs(t.progress) * 1000);
        l.renewals += 1;
    }
    t.updated_at = now;
    Ok(t)
}

/// The holder's lease extended as a progress report at the task's progress would, for any
/// other call the holder makes about its task (a decision, an artifact, reading its
/// context): `None` when `agent_id` holds no live lease on it or more than half that
/// renewal is still left, so a busy holder writes its task at most once per half lease.
pub fn touch(task: &Task, agent_id: &str, now: Millis) -> Option<Task> {
    let lease = check_holder(task, agent_id, None, now).ok()?;
    let renewal = renewal_secs(task.progress) * 1000;
    if lease.expires_at > now + renewal / 2 {
        return None;
    }
    let until = now + renewal;
    let mut t = task.clone();
    if let Some(l) = t.lease.as_mut() {
        l.expires_at = until;
        l.renewals += 1;
    }
    t.updated_at = now;
    Some(t)
}

/// Completes the task for its holder, or for the last holder whose lease lapsed while
/// nobody claimed the task since ([`lapsed_hold`]); anyone else's completion, or a second
/// one, is `stale_completion` (409) and changes nothing.
pub fn complete(
    task: &Task,
    agent_id: &str,
    token: Option<u64>,
    now: Millis,
) -> Result<Task, ApiError> {
    if let Err(e) = check_holder(task, agent_id, token, now)
        && lapsed_hold(task, agent_id, token, now).is_none()
    {
        return Err(ApiError::new(409, "stale_completion", e.message));
    }
    let mut t = task.clone();
    t.status = TaskStatus::Done;
    t.progress = 100;
    t.assigned_to = Some(agent_id.to_string());
    t.lease = None;
    t.lapsed_lease = None;
    t.recovery_note = None;
    t.completed_at = Some(now);
    t.completed_by = Some(agent_id.to_string());
    t.updated_at = now;
    Ok(t)
}

/// Blocks the task for its holder and releases the lease and the agent, so the agent can
/// take other work while someone resolves the blocker.
pub fn block(
    task: &Task,
    agent_id: &str,
    token: Option<u64>,
    now: Millis,
) -> Result<Task, ApiError> {
    check_holder(task, agent_id, token, now)?;
    let mut t = task.clone();
    t.status = TaskStatus::Blocked;
    t.lease = None;
    t.assigned_to = None;
    t.updated_at = now;
    Ok(t)
}

/// A blocked task back in the pool (blocked is never a dead end); other tasks unchanged.
pub fn unblock(task: &Task, now: Millis) -> Task {
    let mut t = task.clone();
    if t.status == TaskStatus::Blocked {
        t.status = TaskStatus::Todo;
        t.assigned_to = None;
        t.lease = None;
        t.updated_at = now;
    }
    t
}

/// An in-progress or blocked task back in the pool, whoever held it, with a note about the
/// previous holder; `invalid` for todo or done tasks.
pub fn unassign(task: &Task, now: Millis) -> Result<Task, ApiError> {
    match task.status {
        TaskStatus::InProgress | TaskStatus::Blocked => {
            let mut t = task.clone();
            if let Some(l) = &task.lease {
                t.recovery_note = Some(format!(
                    "Unassigned from {} at {} % progress; check for partial work.",
                    l.agent_id, task.progress
                ));
            }
            t.status = TaskStatus::Todo;
            t.assigned_to = None;
            t.lease = None;
            t.updated_at = now;
            Ok(t)
        }
        TaskStatus::Todo => Err(ApiError::invalid(format!(
            "task {} is not assigned",
            task.id
        ))),
        TaskStatus::Done => Err(ApiError::invalid(format!(
            "task {} is already done",
            task.id
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_lapse_is_the_earliest_live_lease() {
        let t = |id: &str| crate::board::graph::tests::task(id, &[], 1.0);
        let early = assign(&t("a"), "x", 0, 10);
        let late = assign(&t("b"), "y", 0, 20);
        let lapsed = assign(&t("c"), "z", 0, 1);
        let tasks = [late, early, lapsed, t("todo")];
        assert_eq!(next_lapse(&tasks, 5_000), Some(10_000));
        assert_eq!(next_lapse(&tasks, 10_000), Some(20_000));
        assert_eq!(next_lapse(&tasks, 20_000), None);
    }
    use crate::board::graph::tests::task;

    #[test]
    fn renewal_tiers() {
        assert_eq!(renewal_secs(0), 240);
        assert_eq!(renewal_secs(24), 240);
        assert_eq!(renewal_secs(25), 300);
        assert_eq!(renewal_secs(74), 300);
        assert_eq!(renewal_secs(75), 360);
        assert_eq!(renewal_secs(100), 360);
    }

    #[test]
    fn assignment_and_renewal() {
        let t = assign(&task("t", &[], 1.0), "a", 1000, LEASE_INITIAL_SECS);
        let l = t.lease.clone().unwrap();
        assert_eq!(
            (l.token, l.expires_at, t.status),
            (1, 181_000, TaskStatus::InProgress)
        );
        let r = renew(&t, "a", Some(1), 50, 2000, true).unwrap();
        assert_eq!(r.lease.as_ref().unwrap().expires_at, 302_000);
        assert_eq!(r.progress, 50);
        let r = renew(&r, "a", None, 80, 3000, true).unwrap();
        assert_eq!(r.lease.as_ref().unwrap().expires_at, 363_000);
    }

    #[test]
    fn stale_holder_cannot_touch_the_new_holders_lease() {
        let t = assign(&task("t", &[], 1.0), "a", 0, 10);
        assert!(expire_if_due(&t, 9_999).is_none());
        let expired = expire_if_due(&t, 10_000).unwrap();
        assert_eq!(expired.status, TaskStatus::Todo);
        assert!(expired.recovery_note.as_ref().unwrap().contains("a"));
        let b = assign(&expired, "b", 10_001, 10);
        let b_lease = b.lease.clone().unwrap();
        assert_eq!(b_lease.token, 2);

        let e = renew(&b, "a", Some(1), 90, 10_002, true).unwrap_err();
        assert_eq!((e.status, e.code), (409, "not_task_holder"));
        assert_eq!(
            block(&b, "a", None, 10_002).unwrap_err().code,
            "not_task_holder"
        );
        assert_eq!(
            complete(&b, "a", Some(1), 10_002).unwrap_err().code,
            "stale_completion"
        );
        // The same agent with an old token is stale too.
        let again = assign(&expire_if_due(&b, 30_000).unwrap(), "a", 30_001, 10);
        assert_eq!(
            renew(&again, "a", Some(1), 10, 30_002, true)
                .unwrap_err()
                .code,
            "not_task_holder"
        );
        assert!(renew(&again, "a", Some(3), 10, 30_002, true).is_ok());
        // Nothing changed on b's record by the rejected calls.
        assert_eq!(b.lease.unwrap(), b_lease);
    }

    #[test]
    fn a_lapsed_holder_keeps_its_work_until_someone_else_claims_the_task() {
        let t = assign(&task("t", &[], 1.0), "a", 0, 10);
        // Expired but not yet swept: the holder's report revives the lease (same token)
        // while it is still on the task, and its completion counts.
        assert_eq!(
            renew(&t, "a", None, 10, 10_000, false).unwrap_err().code,
            "not_task_holder"
        );
        let revived = renew(&t, "a", Some(1), 10, 10_000, true).unwrap();
        let lease = revived.lease.clone().unwrap();
        assert_eq!((lease.token, lease.expires_at), (1, 250_000));
        assert_eq!(
            complete(&t, "a", None, 10_000).unwrap().status,
            TaskStatus::Done
        );
        assert_eq!(
            complete(&t, "b", None, 10_000).unwrap_err().code,
            "stale_completion"
        );
        assert_eq!(
            complete(&t, "a", Some(2), 10_000).unwrap_err().code,
            "stale_completion"
        );

        // Swept back to the pool: still the holder's while nobody claims it.
        let swept = expire_if_due(&t, 10_000).unwrap();
        assert_eq!(swept.status, TaskStatus::Todo);
        let done = complete(&swept, "a", Some(1), 20_000).unwrap();
        assert_eq!(
            (done.status, done.completed_by.as_deref()),
            (TaskStatus::Done, Some("a"))
        );
        assert!(done.lapsed_lease.is_none() && done.recovery_note.is_none());
        let back = renew(&swept, "a", None, 30, 20_000, true).unwrap();
        assert_eq!(back.status, TaskStatus::InProgress);
        assert_eq!(back.assigned_to.as_deref(), Some("a"));
        assert_eq!(back.lease.as_ref().unwrap().token, 1);

        // Once another agent claims it, the old holder's token is stale for good.
        let b = assign(&swept, "b", 20_000, 10);
        assert_eq!(
            complete(&b, "a", None, 20_001).unwrap_err().code,
            "stale_completion"
        );
        let b_lapsed = expire_if_due(&b, 40_000).unwrap();
        assert_eq!(
            complete(&b_lapsed, "a", None, 40_001).unwrap_err().code,
            "stale_completion"
        );
        assert!(complete(&b_lapsed, "b", Some(2), 40_001).is_ok());
        // A task returned by hand is nobody's.
        let unassigned = unassign(&t, 10_000).unwrap();
        assert_eq!(
            complete(&unassigned, "a", None, 10_001).unwrap_err().code,
            "stale_completion"
        );
    }

    #[test]
    fn touching_extends_only_a_live_lease_that_runs_short() {
        let t = assign(&task("t", &[], 1.0), "a", 0, 10);
        let touched = touch(&t, "a", 5_000).unwrap();
        assert_eq!(touched.lease.as_ref().unwrap().expires_at, 245_000);
        assert!(
            touch(&touched, "a", 124_999).is_none(),
            "over half a renewal left"
        );
        let again = touch(&touched, "a", 125_000).unwrap();
        assert_eq!(again.lease.as_ref().unwrap().expires_at, 365_000);
        assert!(touch(&t, "b", 5_000).is_none(), "not the holder");
        assert!(touch(&t, "a", 10_000).is_none(), "lapsed");
    }

    #[test]
    fn completion_block_unblock_unassign() {
        let t = assign(&task("t", &[], 1.0), "a", 0, 100);
        let done = complete(&t, "a", Some(1), 5).unwrap();
        assert_eq!(
            (done.status, done.progress, done.completed_by.as_deref()),
            (TaskStatus::Done, 100, Some("a"))
        );
        assert_eq!(
            complete(&done, "a", None, 6).unwrap_err().code,
            "stale_completion"
        );

        let blocked = block(&t, "a", None, 5).unwrap();
        assert_eq!(
            (blocked.status, blocked.lease.is_none()),
            (TaskStatus::Blocked, true)
        );
        assert_eq!(unblock(&blocked, 6).status, TaskStatus::Todo);
        assert_eq!(unassign(&blocked, 6).unwrap().status, TaskStatus::Todo);
        assert_eq!(unassign(&t, 6).unwrap().status, TaskStatus::Todo);
        assert!(unassign(&task("x", &[], 1.0), 6).is_err());
    }

    #[test]
    fn utc_renders_dates() {
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(1_700_000_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(utc(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(utc(1_709_251_199_999), "2024-02-29T23:59:59Z");
    }

    #[test]
    fn expiry_note_names_holder_progress_and_time() {
        let t = assign(&task("t", &[], 1.0), "agent-a", 0, 10);
        let t = renew(&t, "agent-a", Some(1), 40, 1_000, true).unwrap();
        let expires = t.lease.as_ref().unwrap().expires_at;
        let back = expire_if_due(&t, expires).unwrap();
        let note = back.recovery_note.clone().unwrap();
        assert!(note.contains("agent-a"), "{note}");
        assert!(note.contains("40 %"), "{note}");
        assert!(note.contains("1970-01-01T00:05:01Z"), "{note}");
        assert_eq!(
            (back.status, back.assigned_to.clone(), back.lease.clone()),
            (TaskStatus::Todo, None, None)
        );
        assert_eq!(back.lease_counter, 1, "tokens are never reused");
        // The next holder keeps the note.
        let next = assign(&back, "agent-b", expires + 1, 10);
        assert_eq!(next.recovery_note, Some(note));
    }

    #[test]
    fn assigning_over_an_expired_lease_writes_the_note_itself() {
        let t = assign(&task("t", &[], 1.0), "a", 0, 10);
        let b = assign(&t, "b", 10_000, 10);
        assert!(b.recovery_note.as_ref().unwrap().contains("(a)"));
        assert_eq!(b.lease.as_ref().unwrap().token, 2);
        assert_eq!(b.started_at, Some(0), "first start is kept");
        assert!(expire_if_due(&task("todo", &[], 1.0), 99).is_none());
    }

    #[test]
    fn renewal_never_shortens_a_lease() {
        let t = assign(&task("t", &[], 1.0), "a", 0, 180);
        let late = renew(&t, "a", None, 90, 0, true).unwrap();
        assert_eq!(late.lease.as_ref().unwrap().expires_at, 360_000);
        let early = renew(&late, "a", None, 10, 1_000, true).unwrap();
        assert_eq!(early.lease.as_ref().unwrap().expires_at, 360_000);
        assert_eq!(early.lease.as_ref().unwrap().renewals, 2);
        assert_eq!(early.progress, 10);
        let capped = renew(&early, "a", None, 250, 2_000, true).unwrap();
        assert_eq!(capped.progress, 100);
    }

    #[test]
    fn check_holder_explains_each_refusal() {
        let t = assign(&task("t", &[], 1.0), "a", 0, 100);
        assert_eq!(check_holder(&t, "a", Some(1), 1).unwrap().token, 1);
        let wrong_agent = check_holder(&t, "b", None, 1).unwrap_err();
        assert!(wrong_agent.message.contains("another agent"));
        let wrong_token = check_holder(&t, "a", Some(7), 1).unwrap_err();
        assert!(wrong_token.message.contains("token 7"));
        let todo = check_holder(&task("x", &[], 1.0), "a", None, 1).unwrap_err();
        assert_eq!((todo.status, todo.code), (409, "not_task_holder"));
        let expired = check_holder(&t, "a", Some(1), 100_000).unwrap_err();
        assert!(expired.message.contains("expired"));
    }

    #[test]
    fn unblock_leaves_other_states_alone_and_unassign_notes_the_holder() {
        let todo = task("t", &[], 1.0);
        assert_eq!(unblock(&todo, 5), todo);
        let held = assign(&todo, "a", 0, 100);
        let back = unassign(&held, 7).unwrap();
        assert!(back.recovery_note.unwrap().contains("a"));
        assert_eq!(
            (back.assigned_to, back.lease, back.updated_at),
            (None, None, 7)
        );
        let done = complete(&held, "a", None, 1).unwrap();
        assert_eq!(unassign(&done, 2).unwrap_err().code, "invalid");
    }
}
