//! The agent work loop: `request_next_task`, `report_task_progress`, `report_blocker`,
//! `resolve_blocker`, `unassign_task`.
//!
//! Every state change is one atomic change set (task, agent, history record, event) whose
//! task write is compare-and-swap on the version read: of two racing claims (in this
//! process or another one on the same database) exactly one lands; the other re-reads.

use super::board_reads;
use super::fields::{
    Count, Id, IdRef, Percent, Pick, ProgressStatus, Severity, Str, Text, WaitSeconds,
};
use super::handoff;
use super::hints::Hints;
use super::scope;
use super::tool::{Tool, ToolCtx};
use crate::board_error::{BoardError, Missing};
use crate::events::BoardEvent;
use crate::ids::{new_id, now_ms};
use crate::records::{self, Change, Versioned, collections};
use crate::unit_of_work;
use crate::{read_ahead, webhook_fanout};
use marcus_core::board::handoff::Handoff;
use marcus_core::board::model::{
    Agent, AgentStatus, Blocker, Lease, ProgressEntry, Task, TaskStatus,
};
use marcus_core::board::{annotate, blocker_advice, claim, lease, scheduler};
use marcus_core::text::is_blank;
use marcus_identity::access::Access;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

#[cfg(test)]
mod tests;

/// How often a lost compare-and-swap race is retried before giving up.
const MAX_ATTEMPTS: usize = 16;
/// Claims race every agent asking at once; each lost race moves to another task.
const CLAIM_ATTEMPTS: usize = 64;

/// `request_next_task(agent_id, project_id?)`.
pub struct RequestNext;

/// Who asks, and in which project.
#[derive(Deserialize, JsonSchema)]
pub struct RequestNextArgs {
    /// The asking agent.
    agent_id: Id,
    /// The project; defaults to the session's, the agent's, or the only one.
    project_id: Option<IdRef>,
    /// Up to 60: when no task is ready, wait this long for one instead of answering at
    /// once; the answer comes as soon as a task becomes ready for this agent.
    wait_seconds: Option<WaitSeconds>,
}

/// A task for the agent, or when to ask again.
#[derive(Serialize, JsonSchema)]
#[serde(untagged)]
pub enum NextTaskAnswer {
    /// The agent holds this task now.
    Assigned(Box<Assigned>),
    /// No task is ready for it.
    NoneReady(NoneReady),
}

/// A task handed to the agent (or the one it already holds).
#[derive(Serialize, JsonSchema)]
pub struct Assigned {
    success: bool,
    /// The task with its instructions.
    task: TaskPayload,
    /// The lease under which the agent holds it.
    lease: Option<Lease>,
    /// Fencing token to send with reports.
    lease_token: Option<u64>,
    /// When the lease runs out unless renewed, milliseconds since the Unix epoch.
    lease_expires_at: Option<u64>,
    /// True when the agent already held this task.
    already_assigned: bool,
    /// The task it already held (upstream's answer to asking while holding one); absent
    /// when the task was just handed out.
    #[serde(skip_serializing_if = "Option::is_none")]
    current_task: Option<HeldTask>,
    /// What an earlier holder left unfinished.
    recovery_note: Option<String>,
}

/// The task an agent already holds, by id, name and status.
#[derive(Serialize, JsonSchema)]
pub struct HeldTask {
    /// Its id.
    id: String,
    /// Its name.
    name: String,
    /// Its status.
    status: TaskStatus,
}

/// The task as handed to an agent: the record plus instructions and its dependencies.
#[derive(Serialize, JsonSchema)]
pub struct TaskPayload {
    #[serde(flatten)]
    task: Task,
    /// What to do, for the agent to read.
    instructions: String,
    /// The finished tasks it builds on.
    dependency_tasks: Vec<TaskRef>,
    /// What its dependencies left for it, by upstream's names.
    #[serde(flatten)]
    handoff: Handoff,
}

/// A task by id and name.
#[derive(Serialize, JsonSchema)]
pub struct TaskRef {
    /// Its id.
    id: String,
    /// Its name.
    name: String,
}

/// No task now: when to ask again and why.
#[derive(Serialize, JsonSchema)]
pub struct NoneReady {
    success: bool,
    /// No task.
    task: (),
    /// For people.
    message: String,
    /// Seconds to wait before asking again.
    retry_after_seconds: u64,
    /// Why nothing is ready.
    retry_reason: String,
    /// The project looked in.
    project_id: String,
    /// Every task of the project is done: nothing will become ready by waiting.
    #[serde(skip)]
    finished: bool,
}

impl Tool for RequestNext {
    const NAME: &'static str = "request_next_task";
    const DESCRIPTION: &'static str = "Get the next ready task for this agent (highest priority, best skill match, most critical), held under a lease (lease_expires_at) that any call about the task renews. Without a ready task the answer says when to ask again (retry_after_seconds) and why; with wait_seconds (up to 60) the call waits and answers as soon as a task becomes ready.";
    // Asking again while holding a task hands back the same task.
    const HINTS: Hints = Hints::write(false, true);
    const ACCESS: Access = Access::ActAsAgent;
    type Args = RequestNextArgs;
    type Answer = NextTaskAnswer;

    fn run(ctx: &ToolCtx, a: RequestNextArgs) -> Result<NextTaskAnswer, BoardError> {
        request_next(ctx, a)
    }
}

/// `report_task_progress(agent_id, task_id, status, progress, message)`.
pub struct ReportProgress;

/// A report on the task the agent holds.
#[derive(Deserialize, JsonSchema)]
pub struct ReportProgressArgs {
    /// The reporting agent.
    agent_id: Id,
    /// The task it holds.
    task_id: Id,
    /// in_progress, completed (finishes the task) or blocked.
    status: Pick<ProgressStatus>,
    /// Percent done, rounded to a whole number.
    progress: Option<Percent>,
    /// What happened.
    message: Option<Str>,
    /// Fencing token from request_next_task (optional).
    lease_token: Option<Count<0>>,
    /// For status blocked: the blocker's severity (medium when absent).
    severity: Option<Pick<Severity>>,
}

/// What a progress report did.
#[derive(Serialize, JsonSchema)]
#[serde(untagged)]
pub enum ProgressAnswer {
    /// Progress recorded (or the task completed).
    Recorded(ProgressRecorded),
    /// Status blocked: the blocker recorded.
    Blocked(Box<BlockerAnswer>),
}

/// Progress recorded.
#[derive(Serialize, JsonSchema)]
pub struct ProgressRecorded {
    success: bool,
    /// For people.
    message: &'static str,
    /// The task.
    task_id: String,
    /// The task's status now.
    status: TaskStatus,
    /// Its progress now, in percent.
    progress: u8,
    /// When its lease runs out now (none once completed).
    lease_expires_at: Option<u64>,
}

impl Tool for ReportProgress {
    const NAME: &'static str = "report_task_progress";
    const DESCRIPTION: &'static str = "Report progress on the task you hold; renews its lease (the answer says until when), so report at least every couple of minutes. status: in_progress, completed (finishes the task; accepted after a lapsed lease while nobody else took the task) or blocked.";
    const HINTS: Hints = Hints::write(false, false);
    const ACCESS: Access = Access::ActAsAgent;
    type Args = ReportProgressArgs;
    type Answer = ProgressAnswer;

    fn run(ctx: &ToolCtx, a: ReportProgressArgs) -> Result<ProgressAnswer, BoardError> {
        report_progress(ctx, a)
    }
}

/// `report_blocker(agent_id, task_id, blocker_description, severity)`.
pub struct ReportBlocker;

/// What blocks the task the agent holds.
#[derive(Deserialize, JsonSchema)]
pub struct ReportBlockerArgs {
    /// The reporting agent.
    agent_id: Id,
    /// The task it holds.
    task_id: Id,
    /// What blocks it.
    blocker_description: Text,
    /// low, medium (when absent) or high.
    severity: Option<Pick<Severity>>,
    /// Fencing token from request_next_task (optional).
    lease_token: Option<Count<0>>,
}

/// The recorded blocker.
#[derive(Serialize, JsonSchema)]
pub struct BlockerAnswer {
    success: bool,
    /// For people.
    message: &'static str,
    /// The blocker's id.
    blocker_id: String,
    /// The blocked task.
    task_id: String,
    /// The stored blocker.
    blocker: Blocker,
    /// What to do about it, numbered, one per line.
    suggestions: String,
}

impl Tool for ReportBlocker {
    const NAME: &'static str = "report_blocker";
    const DESCRIPTION: &'static str = "Report that the task you hold is blocked; the task stops and its lease is released until the blocker is resolved.";
    const HINTS: Hints = Hints::write(false, false);
    const ACCESS: Access = Access::ActAsAgent;
    type Args = ReportBlockerArgs;
    type Answer = BlockerAnswer;

    fn run(ctx: &ToolCtx, a: ReportBlockerArgs) -> Result<BlockerAnswer, BoardError> {
        report_blocker(ctx, a)
    }
}

/// `resolve_blocker(blocker_id | task_id, resolution)`.
pub struct ResolveBlocker;

/// Which blocker (or every open one of a task), and how it was resolved.
#[derive(Deserialize, JsonSchema)]
#[schemars(transform = blocker_or_task)]
pub struct ResolveBlockerArgs {
    /// The blocker.
    blocker_id: Option<IdRef>,
    /// The task whose open blockers are all resolved.
    task_id: Option<IdRef>,
    /// How it was resolved.
    resolution: Text,
    /// Who resolved it.
    resolved_by: Option<Str>,
}

fn blocker_or_task(schema: &mut schemars::Schema) {
    super::schema::require_one_of(schema, &["blocker_id", "task_id"]);
}

/// The resolved blockers and the task's status.
#[derive(Serialize, JsonSchema)]
pub struct ResolveAnswer {
    success: bool,
    /// For people.
    message: &'static str,
    /// The task.
    task_id: String,
    /// The task's status now.
    task_status: TaskStatus,
    /// Ids of the blockers this call resolved.
    resolved_blockers: Vec<String>,
}

impl Tool for ResolveBlocker {
    const NAME: &'static str = "resolve_blocker";
    const DESCRIPTION: &'static str = "Resolve a blocker (by blocker_id, or every open blocker of task_id); the task returns to the pool.";
    // By task_id, a repeated call also resolves blockers reported since the first.
    const HINTS: Hints = Hints::write(false, false);
    const ACCESS: Access = Access::Board;
    type Args = ResolveBlockerArgs;
    type Answer = ResolveAnswer;

    fn run(ctx: &ToolCtx, a: ResolveBlockerArgs) -> Result<ResolveAnswer, BoardError> {
        resolve_blocker(ctx, a)
    }
}

/// `unassign_task(task_id)`.
pub struct Unassign;

/// The task to return to the pool.
#[derive(Deserialize, JsonSchema)]
pub struct UnassignArgs {
    /// The task.
    task_id: Id,
    /// Who asks.
    agent_id: Option<Str>,
    /// Why, for the record.
    reason: Option<Str>,
}

/// The task back in the pool.
#[derive(Serialize, JsonSchema)]
pub struct UnassignAnswer {
    success: bool,
    /// For people.
    message: String,
    /// The task.
    task_id: String,
    /// Who held it.
    previous_holder: Option<String>,
    /// Who held it (upstream's name).
    agent_id: Option<String>,
    /// Its status now.
    status: TaskStatus,
}

impl Tool for Unassign {
    const NAME: &'static str = "unassign_task";
    const DESCRIPTION: &'static str =
        "Return an in-progress or blocked task to the pool, releasing its holder.";
    // It takes the task away from its holder; repeated later, from whoever holds it then.
    const HINTS: Hints = Hints::write(true, false);
    const ACCESS: Access = Access::Board;
    type Args = UnassignArgs;
    type Answer = UnassignAnswer;

    fn run(ctx: &ToolCtx, a: UnassignArgs) -> Result<UnassignAnswer, BoardError> {
        unassign(ctx, a)
    }
}

/// Runs one read-decide-write attempt until it commits without losing a compare-and-swap
/// race (a [`BoardError::Conflict`]); rule violations and other errors end it at once.
fn with_retries<T>(mut attempt: impl FnMut() -> Result<T, BoardError>) -> Result<T, BoardError> {
    for _ in 0..MAX_ATTEMPTS {
        match attempt() {
            Err(BoardError::Conflict(_)) => continue,
            other => return other,
        }
    }
    Err(BoardError::Contention(
        "the task changed concurrently too often; try again".into(),
    ))
}

/// The reporting agent and its task, read in one platform call; the agent's absence is
/// reported first, as reading them one after the other would.
fn load_agent_and_task(
    agent_id: &str,
    task_id: &str,
) -> Result<(Versioned<Agent>, Versioned<Task>), BoardError> {
    let [agent, task] = records::get_pair(
        (collections::AGENTS, agent_id),
        (collections::TASKS, task_id),
    )?;
    let agent = records::record::<Agent>(collections::AGENTS, agent_id, agent)?
        .ok_or_else(|| board_reads::agent_not_found(agent_id))?;
    let task = records::record::<Task>(collections::TASKS, task_id, task)?
        .ok_or_else(|| board_reads::task_not_found(task_id))?;
    Ok((agent, task))
}

fn lease_seconds(project_id: &str) -> Result<u64, BoardError> {
    Ok(board_reads::project(project_id)?
        .value
        .lease_seconds
        .unwrap_or(lease::LEASE_INITIAL_SECS))
}

/// The task as handed to an agent: the record plus instructions and lease facts.
fn task_payload(
    task: &Task,
    dependencies: &[Task],
    handoff: Handoff,
) -> Result<TaskPayload, BoardError> {
    let deps: Vec<TaskRef> = dependencies
        .iter()
        .map(|t| TaskRef {
            id: t.id.clone(),
            name: t.name.clone(),
        })
        .collect();
    Ok(TaskPayload {
        task: handoff::named(task)?,
        instructions: marcus_core::board::handoff::instructions(task, deps.len()),
        dependency_tasks: deps,
        handoff,
    })
}

fn request_next(ctx: &ToolCtx, a: RequestNextArgs) -> Result<NextTaskAnswer, BoardError> {
    let agent_id = a.agent_id.0;
    let agent = board_reads::agent(&agent_id)?;
    let project_id = scope::project_id(
        ctx,
        a.project_id.as_ref(),
        agent.value.project_id.as_deref(),
    )?;
    let wait_ms = a.wait_seconds.map_or(0, |w| w.0);
    if wait_ms == 0 {
        return claim_next(&agent_id, agent, &project_id);
    }
    // Every change that can make a task ready (a completion, a resolved blocker, new or
    // returned tasks) is announced on the project's channel: the call looks, and while
    // nothing is ready sleeps until the channel moves, the time is up, or the answer's own
    // retry time (a lease running out announces nothing) comes.
    let channel = format!("project:{project_id}");
    let until = now_ms() + u64::from(wait_ms);
    let mut agent = agent;
    loop {
        let since = crate::platform::current()
            .realtime_latest(&channel)
            .map_err(crate::platform_error::to_api)?;
        let answer = claim_next(&agent_id, agent, &project_id)?;
        let now = now_ms();
        let NextTaskAnswer::NoneReady(none) = &answer else {
            return Ok(answer);
        };
        if now >= until || none.finished {
            return Ok(answer);
        }
        let slice = (until - now).min(none.retry_after_seconds.max(1) * 1000);
        let moved = crate::platform::current()
            .realtime_wait(&channel, since, slice as u32)
            .map_err(crate::platform_error::to_api)?;
        if moved == since && now_ms() < now + slice {
            // The host had no waiting place free and answered at once: so does this call.
            return Ok(answer);
        }
        agent = board_reads::agent(&agent_id)?;
    }
}

/// One look at the pool for `agent_id`: the task it holds, a task it claims now, or when
/// to ask again.
fn claim_next(
    agent_id: &str,
    mut agent: Versioned<Agent>,
    project_id: &str,
) -> Result<NextTaskAnswer, BoardError> {
    let agent_id = agent_id.to_string();
    let project_id = project_id.to_string();
    // Tasks this call lost a race for: the next attempt takes the next candidate, so many
    // agents with the same preferences spread over the ready tasks instead of queueing.
    let mut lost: Vec<String> = Vec::new();
    let mut last_conflict = String::new();
    let by_project = ("project_id", json!(project_id));
    let ready = [
        by_project.clone(),
        ("status", json!("todo")),
        ("deps_remaining", json!(0)),
    ];
    let working = [by_project.clone(), ("status", json!("in_progress"))];
    for attempt in 0..CLAIM_ATTEMPTS {
        // Everything the decision and its write read, in one platform call: the pool, the
        // project (its lease length), the project's webhook subscriptions (the write queues
        // their deliveries), the task the agent holds and, after a lost race, the agent again.
        let mut reads = vec![
            read_ahead::query(collections::TASKS, &ready),
            read_ahead::query(collections::TASKS, &working),
            read_ahead::get(collections::PROJECTS, &project_id),
            webhook_fanout::subscriptions_read(&project_id),
        ];
        if attempt > 0 {
            reads.push(read_ahead::get(collections::AGENTS, &agent_id));
        }
        if let Some(current_id) = &agent.value.current_task_id {
            reads.push(read_ahead::get(collections::TASKS, current_id));
        }
        read_ahead::read(reads)?;
        if attempt > 0 {
            agent = board_reads::agent(&agent_id)?;
        }
        let now = now_ms();

        // One task per agent: a live lease it already holds is handed back unchanged.
        if let Some(current_id) = &agent.value.current_task_id
            && let Some(held) = records::get::<Task>(collections::TASKS, current_id)?
            && claim::holds_live(&agent.value, &held.value, now)
        {
            let (deps, handoff) = handoff::read(&held.value)?;
            let answer = assigned_answer(&held.value, &deps, handoff, true);
            // Asking again is a call about the held task: it keeps the lease too.
            super::lease_touch::renew_for_holder(&agent_id, current_id);
            return answer;
        }

        // Only tasks whose dependencies are all done, plus in-progress ones (their lease
        // may have expired), are read: the board's other tasks cannot be handed out.
        let mut pool = records::query_all::<Task>(collections::TASKS, &ready)?;
        let in_progress = records::query_all::<Task>(collections::TASKS, &working)?;
        pool.extend(
            in_progress
                .iter()
                .filter(|v| annotate::claimable(&v.value, now))
                .cloned(),
        );
        let candidates: Vec<Task> = pool.iter().map(|v| v.value.clone()).collect();
        let pick = match claim::choose(&agent.value, &candidates, &lost, attempt, now) {
            claim::Choice::Try(pick) => pick,
            claim::Choice::LookAgain => {
                lost.clear();
                continue;
            }
            claim::Choice::NothingReady => {
                let blocked = records::query_all::<Task>(
                    collections::TASKS,
                    &[by_project.clone(), ("status", json!("blocked"))],
                )?;
                let todo = records::query_all::<Task>(
                    collections::TASKS,
                    &[by_project, ("status", json!("todo"))],
                )?;
                return no_task_answer(agent, &project_id, in_progress, blocked, todo, now);
            }
        };
        let Some(current) = pool.iter().find(|v| v.value.id == pick) else {
            continue;
        };
        let (deps, handoff) = handoff::read(&current.value)?;
        // The assignment time is read after the dependencies were seen done, so a task
        // never starts before the completion it waited for.
        let now = now_ms();
        let assignment = match claim::assign(
            &current.value,
            &deps,
            &agent.value,
            now,
            lease_seconds(&project_id)?,
        ) {
            Ok(assignment) => assignment,
            Err(claim::NotReady(why)) => {
                last_conflict = why;
                lost.push(pick);
                continue;
            }
        };
        let mut changes = Vec::new();
        if let Some(expired) = &assignment.expired {
            let event = BoardEvent::new(
                "lease_expired",
                Some(&project_id),
                Some(&expired.previous_holder),
                Some(&pick),
                json!({"recovery_note": expired.recovery_note}),
            );
            // Logged only: the assignment announced with this change tells live readers
            // the task moved.
            changes.push(event.change()?);
        }
        let assigned = assignment.task;
        let event = BoardEvent::new(
            "task_assigned",
            Some(&project_id),
            Some(&agent_id),
            Some(&assigned.id),
            json!({"name": assigned.name, "lease_token": assignment.token}),
        );
        changes.push(Change::update(
            collections::TASKS,
            &assigned.id,
            &assigned,
            current.version,
        )?);
        changes.push(Change::update(
            collections::AGENTS,
            &agent_id,
            &assignment.agent,
            agent.version,
        )?);
        match unit_of_work::commit_and_announce(changes, &event) {
            Ok(()) => return assigned_answer(&assigned, &deps, handoff, false),
            Err(BoardError::Conflict(message)) => {
                last_conflict = message;
                lost.push(pick);
                continue;
            }
            Err(e) => return Err(e),
        }
    }
    Err(BoardError::Contention(format!(
        "too many concurrent claims ({last_conflict}); ask again in a moment"
    )))
}

/// The answer when nothing can be handed out: when to ask again and why, from the open
/// tasks (in progress, blocked, todo) read.
fn no_task_answer(
    agent: Versioned<Agent>,
    project_id: &str,
    in_progress: Vec<Versioned<Task>>,
    blocked: Vec<Versioned<Task>>,
    todo: Vec<Versioned<Task>>,
    now: u64,
) -> Result<NextTaskAnswer, BoardError> {
    let open: Vec<Task> = in_progress
        .into_iter()
        .chain(blocked)
        .chain(todo)
        .map(|v| v.value)
        .collect();
    let empty = open.is_empty()
        && records::count(collections::TASKS, &[("project_id", json!(project_id))])? == 0;
    let finished = open.is_empty() && !empty;
    let (secs, reason) = if empty {
        (30, "the project has no tasks yet".to_string())
    } else if finished {
        (30, "all tasks are complete".to_string())
    } else {
        scheduler::retry_after(&open, now)
    };
    touch_agent(agent, now);
    Ok(NextTaskAnswer::NoneReady(NoneReady {
        success: false,
        task: (),
        message: format!("No task available: {reason}"),
        retry_after_seconds: secs,
        retry_reason: reason,
        project_id: project_id.to_string(),
        finished,
    }))
}

fn assigned_answer(
    task: &Task,
    dependencies: &[Task],
    handoff: Handoff,
    already_held: bool,
) -> Result<NextTaskAnswer, BoardError> {
    let lease = task.lease.clone();
    Ok(NextTaskAnswer::Assigned(Box::new(Assigned {
        success: true,
        current_task: already_held.then(|| HeldTask {
            id: task.id.clone(),
            name: task.name.clone(),
            status: task.status,
        }),
        task: task_payload(task, dependencies, handoff)?,
        lease_token: lease.as_ref().map(|l| l.token),
        lease_expires_at: lease.as_ref().map(|l| l.expires_at),
        lease,
        already_assigned: already_held,
        recovery_note: task.recovery_note.clone(),
    })))
}

/// Records that the agent called, best effort (a lost race only loses a timestamp).
fn touch_agent(agent: Versioned<Agent>, now: u64) {
    let mut a = agent.value;
    a.last_seen = now;
    if let Ok(change) = Change::update(collections::AGENTS, &a.id.clone(), &a, agent.version) {
        let _ = unit_of_work::commit(vec![change]);
    }
}

/// Releases the agent from `task_id` (and counts a completion).
fn agent_release(
    agent: &Versioned<Agent>,
    task_id: &str,
    completed: bool,
    now: u64,
) -> Result<Change, BoardError> {
    let mut a = agent.value.clone();
    if a.current_task_id.as_deref() == Some(task_id) {
        a.current_task_id = None;
        a.status = AgentStatus::Available;
    }
    if completed {
        a.completed_tasks_count += 1;
    }
    a.last_seen = now;
    Ok(Change::update(
        collections::AGENTS,
        &a.id,
        &a,
        agent.version,
    )?)
}

fn report_progress(ctx: &ToolCtx, a: ReportProgressArgs) -> Result<ProgressAnswer, BoardError> {
    let agent_id = a.agent_id.0;
    let task_id = a.task_id.0;
    let status = a.status.0;
    let message = a.message.map(|m| m.0).unwrap_or_default();
    let token = a.lease_token.map(|t| t.0);
    let progress = a.progress.map(|p| p.0);
    if status == ProgressStatus::Blocked {
        let description = if is_blank(&message) {
            "blocked (reported through progress)".to_string()
        } else {
            message
        };
        let blocker = ReportBlockerArgs {
            agent_id: Id(agent_id),
            task_id: Id(task_id),
            blocker_description: Text(description),
            severity: a.severity,
            lease_token: a.lease_token,
        };
        return report_blocker(ctx, blocker).map(|b| ProgressAnswer::Blocked(Box::new(b)));
    }
    let completing = status == ProgressStatus::Completed;
    with_retries(|| {
        let (agent, task) = load_agent_and_task(&agent_id, &task_id)?;
        let now = now_ms();
        let (updated, kind) = if completing {
            (
                lease::complete(&task.value, &agent_id, token, now)?,
                "task_completed",
            )
        } else {
            let p = progress.unwrap_or(task.value.progress);
            let still_on_it = agent.value.current_task_id.as_deref() == Some(task_id.as_str());
            (
                lease::renew(&task.value, &agent_id, token, p, now, still_on_it)?,
                "task_progress",
            )
        };
        let entry = ProgressEntry {
            task_id: task_id.clone(),
            project_id: updated.project_id.clone(),
            agent_id: agent_id.clone(),
            status: status.as_str().to_string(),
            progress: updated.progress,
            message: message.clone(),
            timestamp: now,
        };
        let event = BoardEvent::new(
            kind,
            Some(&updated.project_id),
            Some(&agent_id),
            Some(&task_id),
            json!({"progress": updated.progress, "message": message}),
        );
        let mut changes = vec![
            Change::update(collections::TASKS, &task_id, &updated, task.version)?,
            Change::create(collections::PROGRESS, &new_id("prg"), &entry)?,
        ];
        if completing {
            changes.push(agent_release(&agent, &task_id, true, now)?);
            // One dependency fewer for each dependent; in the same atomic change, so the
            // counters can never drift from the statuses. The dependents are read with the
            // project's webhook subscriptions, which the write reads next.
            let mut reads: Vec<_> = updated
                .dependents
                .iter()
                .map(|id| read_ahead::get(collections::TASKS, id))
                .collect();
            reads.push(webhook_fanout::subscriptions_read(&updated.project_id));
            read_ahead::read(reads)?;
            let dependents = records::get_many::<Task>(collections::TASKS, &updated.dependents)?;
            for (dependent_id, dep) in updated.dependents.iter().zip(dependents) {
                if let Some(dep) = dep {
                    let mut d = dep.value.clone();
                    d.deps_remaining = d.deps_remaining.saturating_sub(1);
                    d.updated_at = now;
                    changes.push(Change::update(
                        collections::TASKS,
                        dependent_id,
                        &d,
                        dep.version,
                    )?);
                }
            }
        }
        unit_of_work::commit_and_announce(changes, &event)?;
        Ok(ProgressAnswer::Recorded(ProgressRecorded {
            success: true,
            message: if completing {
                "Task completed"
            } else {
                "Progress recorded; lease renewed"
            },
            task_id: task_id.clone(),
            status: updated.status,
            progress: updated.progress,
            lease_expires_at: updated.lease.as_ref().map(|l| l.expires_at),
        }))
    })
}

fn report_blocker(_ctx: &ToolCtx, a: ReportBlockerArgs) -> Result<BlockerAnswer, BoardError> {
    let agent_id = a.agent_id.0;
    let task_id = a.task_id.0;
    let description = a.blocker_description.0;
    let severity = a.severity.map(|s| s.0).unwrap_or_default().as_str();
    let token = a.lease_token.map(|t| t.0);
    with_retries(|| {
        let (agent, task) = load_agent_and_task(&agent_id, &task_id)?;
        let now = now_ms();
        let blocked = lease::block(&task.value, &agent_id, token, now)?;
        let blocker = Blocker {
            id: new_id("blk"),
            task_id: task_id.clone(),
            project_id: blocked.project_id.clone(),
            agent_id: agent_id.clone(),
            description: description.clone(),
            severity: severity.to_string(),
            reported_at: now,
            resolved_at: None,
            resolution: None,
            resolved_by: None,
        };
        let event = BoardEvent::new(
            "task_blocked",
            Some(&blocked.project_id),
            Some(&agent_id),
            Some(&task_id),
            json!({"blocker_id": blocker.id, "description": description, "severity": severity}),
        );
        let changes = vec![
            Change::update(collections::TASKS, &task_id, &blocked, task.version)?,
            Change::create(collections::BLOCKERS, &blocker.id, &blocker)?,
            agent_release(&agent, &task_id, false, now)?,
        ];
        unit_of_work::commit_and_announce(changes, &event)?;
        Ok(BlockerAnswer {
            success: true,
            message: "Blocker recorded; the task is blocked until resolve_blocker or unassign_task",
            blocker_id: blocker.id.clone(),
            task_id: task_id.clone(),
            suggestions: blocker_advice::suggestions(&blocked, severity),
            blocker,
        })
    })
}

fn resolve_blocker(_ctx: &ToolCtx, a: ResolveBlockerArgs) -> Result<ResolveAnswer, BoardError> {
    let resolution = a.resolution.0;
    let resolved_by = a.resolved_by.map(|r| r.0);
    let blocker_id = a.blocker_id.map(|b| b.0);
    let task_arg = a.task_id.map(|t| t.0);
    let blockers: Vec<Versioned<Blocker>> = match (&blocker_id, &task_arg) {
        (Some(b), _) => vec![
            records::get::<Blocker>(collections::BLOCKERS, b)?.ok_or_else(|| {
                BoardError::not_found(Missing::Blocker, format!("blocker {b} does not exist"))
            })?,
        ],
        (None, Some(t)) => {
            records::query_all::<Blocker>(collections::BLOCKERS, &[("task_id", json!(t))])?
                .into_iter()
                .filter(|b| b.value.resolved_at.is_none())
                .collect()
        }
        (None, None) => return Err(BoardError::invalid("blocker_id or task_id is required")),
    };
    let task_id = match (&task_arg, blockers.first()) {
        (Some(t), _) => t.clone(),
        (None, Some(b)) => b.value.task_id.clone(),
        (None, None) => return Err(BoardError::invalid("no open blocker to resolve")),
    };
    with_retries(|| {
        let task = board_reads::task(&task_id)?;
        let now = now_ms();
        let mut changes = Vec::new();
        let mut resolved_ids = Vec::new();
        let ids: Vec<String> = blockers.iter().map(|b| b.value.id.clone()).collect();
        for fresh in records::get_many::<Blocker>(collections::BLOCKERS, &ids)? {
            let Some(fresh) = fresh else { continue };
            if fresh.value.resolved_at.is_some() {
                continue;
            }
            let mut r = fresh.value.clone();
            r.resolved_at = Some(now);
            r.resolution = Some(resolution.clone());
            r.resolved_by = resolved_by.clone();
            resolved_ids.push(r.id.clone());
            changes.push(Change::update(
                collections::BLOCKERS,
                &r.id,
                &r,
                fresh.version,
            )?);
        }
        let unblocked = if task.value.status == TaskStatus::Blocked {
            let t = lease::unblock(&task.value, now);
            changes.push(Change::update(
                collections::TASKS,
                &task_id,
                &t,
                task.version,
            )?);
            t
        } else {
            task.value.clone()
        };
        let event = BoardEvent::new(
            "blocker_resolved",
            Some(&unblocked.project_id),
            resolved_by.as_deref(),
            Some(&task_id),
            json!({"blocker_ids": resolved_ids, "resolution": resolution}),
        );
        unit_of_work::commit_and_announce(changes, &event)?;
        Ok(ResolveAnswer {
            success: true,
            message: "Blocker resolved; the task is back in the pool",
            task_id: task_id.clone(),
            task_status: unblocked.status,
            resolved_blockers: resolved_ids,
        })
    })
}

fn unassign(_ctx: &ToolCtx, a: UnassignArgs) -> Result<UnassignAnswer, BoardError> {
    let task_id = a.task_id.0;
    let _ = a.agent_id;
    let reason = a.reason.map_or_else(|| "unassigned".to_string(), |r| r.0);
    with_retries(|| {
        let task = board_reads::task(&task_id)?;
        let now = now_ms();
        let holder = task.value.assigned_to.clone();
        let updated = lease::unassign(&task.value, now)?;
        let mut changes = vec![Change::update(
            collections::TASKS,
            &task_id,
            &updated,
            task.version,
        )?];
        if let Some(h) = &holder
            && let Some(agent) = records::get::<Agent>(collections::AGENTS, h)?
        {
            changes.push(agent_release(&agent, &task_id, false, now)?);
        }
        let event = BoardEvent::new(
            "task_unassigned",
            Some(&updated.project_id),
            holder.as_deref(),
            Some(&task_id),
            json!({"reason": reason}),
        );
        unit_of_work::commit_and_announce(changes, &event)?;
        Ok(UnassignAnswer {
            success: true,
            message: format!("Task {task_id} returned to the pool"),
            task_id: task_id.clone(),
            agent_id: holder.clone(),
            previous_holder: holder,
            status: updated.status,
        })
    })
}
