//! The agent work loop: `request_next_task`, `report_task_progress`, `report_blocker`,
//! `resolve_blocker`, `unassign_task`.
//!
//! Every state change is one atomic change set (task, agent, history record, event) whose
//! task write is compare-and-swap on the version read: of two racing claims (in this
//! process or another one on the same database) exactly one lands; the other re-reads.

use super::arg_schemas::{described, given, id, opt_choice, opt_count, opt_id, opt_text, text};
use super::{ToolCtx, ToolSpec, agents, args, scope};
use crate::events::BoardEvent;
use crate::ids::{new_id, now_ms};
use crate::records::{self, Change, Versioned, collections};
use crate::unit_of_work;
use marcus_core::api_error::ApiError;
use marcus_core::board::model::{Agent, AgentStatus, Blocker, ProgressEntry, Task, TaskStatus};
use marcus_core::board::{annotate, claim, lease, scheduler};
use serde_json::{Map, Value, json};

#[cfg(test)]
mod tests;

/// The statuses `report_task_progress` accepts.
const PROGRESS_STATUSES: &[&str] = &["in_progress", "completed", "blocked"];
/// Blocker severities.
const SEVERITIES: &[&str] = &["low", "medium", "high"];

/// How often a lost compare-and-swap race is retried before giving up.
const MAX_ATTEMPTS: usize = 16;
/// Claims race every agent asking at once; each lost race moves to another task.
const CLAIM_ATTEMPTS: usize = 64;

/// `request_next_task(agent_id, project_id?)`.
pub const REQUEST_NEXT: ToolSpec = ToolSpec {
    name: "request_next_task",
    description: "Get the next ready task for this agent (highest priority, best skill match, most critical). Without a ready task the answer says when to ask again (retry_after_seconds) and why.",
    input_schema: || {
        json!({"type": "object", "required": ["agent_id"], "properties": {
            "agent_id": id(),
            "project_id": opt_id()
        }})
    },
    run: request_next,
};

/// `report_task_progress(agent_id, task_id, status, progress, message)`.
pub const REPORT_PROGRESS: ToolSpec = ToolSpec {
    name: "report_task_progress",
    description: "Report progress on the task you hold; renews its lease. status: in_progress, completed (finishes the task) or blocked.",
    input_schema: || {
        json!({"type": "object", "required": ["agent_id", "task_id", "status"], "properties": {
            "agent_id": id(),
            "task_id": id(),
            "status": {"type": "string", "enum": PROGRESS_STATUSES},
            "progress": {"type": ["number", "null"], "minimum": 0, "maximum": 100, "description": "Percent done, rounded to a whole number"},
            "message": opt_text(),
            "lease_token": described(opt_count(0), "Fencing token from request_next_task (optional)")
        }})
    },
    run: report_progress,
};

/// `report_blocker(agent_id, task_id, blocker_description, severity)`.
pub const REPORT_BLOCKER: ToolSpec = ToolSpec {
    name: "report_blocker",
    description: "Report that the task you hold is blocked; the task stops and its lease is released until the blocker is resolved.",
    input_schema: || {
        json!({"type": "object", "required": ["agent_id", "task_id", "blocker_description"], "properties": {
            "agent_id": id(),
            "task_id": id(),
            "blocker_description": text(),
            "severity": described(opt_choice(SEVERITIES), "medium when absent"),
            "lease_token": opt_count(0)
        }})
    },
    run: report_blocker,
};

/// `resolve_blocker(blocker_id | task_id, resolution)`.
pub const RESOLVE_BLOCKER: ToolSpec = ToolSpec {
    name: "resolve_blocker",
    description: "Resolve a blocker (by blocker_id, or every open blocker of task_id); the task returns to the pool.",
    input_schema: || {
        json!({"type": "object", "required": ["resolution"], "properties": {
            "blocker_id": opt_id(),
            "task_id": opt_id(),
            "resolution": text(),
            "resolved_by": opt_text()
        }, "anyOf": [given("blocker_id"), given("task_id")]})
    },
    run: resolve_blocker,
};

/// `unassign_task(task_id)`.
pub const UNASSIGN: ToolSpec = ToolSpec {
    name: "unassign_task",
    description: "Return an in-progress or blocked task to the pool, releasing its holder.",
    input_schema: || {
        json!({"type": "object", "required": ["task_id"], "properties": {
            "task_id": id(),
            "agent_id": opt_text(),
            "reason": opt_text()
        }})
    },
    run: unassign,
};

/// Runs one read-decide-write attempt until it commits without losing a compare-and-swap
/// race (a `conflict`); rule violations and other errors end it at once.
fn with_retries(mut attempt: impl FnMut() -> Result<Value, ApiError>) -> Result<Value, ApiError> {
    for _ in 0..MAX_ATTEMPTS {
        match attempt() {
            Err(e) if e.code == "conflict" => continue,
            other => return other,
        }
    }
    Err(ApiError::new(
        503,
        "contention",
        "the task changed concurrently too often; try again",
    ))
}

/// Loads a task or fails with `task_not_found`.
pub fn load_task(task_id: &str) -> Result<Versioned<Task>, ApiError> {
    records::get::<Task>(collections::TASKS, task_id)?.ok_or_else(|| task_not_found(task_id))
}

fn task_not_found(task_id: &str) -> ApiError {
    ApiError::new(
        404,
        "task_not_found",
        format!("task {task_id} does not exist"),
    )
}

/// The reporting agent and its task, read in one platform call; the agent's absence is
/// reported first, as reading them one after the other would.
fn load_agent_and_task(
    agent_id: &str,
    task_id: &str,
) -> Result<(Versioned<Agent>, Versioned<Task>), ApiError> {
    let [agent, task] = records::get_pair(
        (collections::AGENTS, agent_id),
        (collections::TASKS, task_id),
    )?;
    let agent = records::record::<Agent>(collections::AGENTS, agent_id, agent)?
        .ok_or_else(|| agents::not_found(agent_id))?;
    let task = records::record::<Task>(collections::TASKS, task_id, task)?
        .ok_or_else(|| task_not_found(task_id))?;
    Ok((agent, task))
}

fn lease_seconds(project_id: &str) -> Result<u64, ApiError> {
    Ok(super::projects::load(project_id)?
        .value
        .lease_seconds
        .unwrap_or(lease::LEASE_INITIAL_SECS))
}

/// The task as handed to an agent: the record plus instructions and lease facts.
fn task_payload(task: &Task, dependencies: &[Task]) -> Value {
    let deps: Vec<Value> = dependencies
        .iter()
        .map(|t| json!({"id": t.id, "name": t.name}))
        .collect();
    let mut instructions = format!("{}\n\n{}", task.name, task.description);
    if !task.acceptance_criteria.is_empty() {
        instructions.push_str("\n\nAcceptance criteria:\n");
        for c in &task.acceptance_criteria {
            instructions.push_str(&format!("- {c}\n"));
        }
    }
    if !deps.is_empty() {
        instructions.push_str(
            "\n\nThis task builds on finished dependencies: call get_task_context for their artifacts and decisions.",
        );
    }
    if let Some(note) = &task.recovery_note {
        instructions.push_str(&format!("\n\nRecovery: {note}"));
    }
    let mut v = serde_json::to_value(task).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        m.insert("instructions".into(), Value::String(instructions));
        m.insert("dependency_tasks".into(), Value::Array(deps));
    }
    v
}

fn request_next(ctx: &ToolCtx, a: &Map<String, Value>) -> Result<Value, ApiError> {
    let agent_id = args::req_str(a, "agent_id")?;
    // Tasks this call lost a race for: the next attempt takes the next candidate, so many
    // agents with the same preferences spread over the ready tasks instead of queueing.
    let mut lost: Vec<String> = Vec::new();
    let mut last_conflict = String::new();
    for attempt in 0..CLAIM_ATTEMPTS {
        let agent = agents::load(&agent_id)?;
        let project_id = scope::project_id(ctx, a, agent.value.project_id.as_deref())?;
        let now = now_ms();

        // One task per agent: a live lease it already holds is handed back unchanged.
        if let Some(current_id) = &agent.value.current_task_id
            && let Some(held) = records::get::<Task>(collections::TASKS, current_id)?
            && claim::holds_live(&agent.value, &held.value, now)
        {
            let deps = load_all(&held.value.dependencies)?;
            return Ok(assigned_answer(&held.value, &deps, true));
        }

        // Only tasks whose dependencies are all done, plus in-progress ones (their lease
        // may have expired), are read: the board's other tasks cannot be handed out.
        let by_project = ("project_id", json!(project_id));
        let mut pool = records::query_all::<Task>(
            collections::TASKS,
            &[
                by_project.clone(),
                ("status", json!("todo")),
                ("deps_remaining", json!(0)),
            ],
        )?;
        let in_progress = records::query_all::<Task>(
            collections::TASKS,
            &[by_project.clone(), ("status", json!("in_progress"))],
        )?;
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
        let deps = load_all(&current.value.dependencies)?;
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
            Ok(()) => return Ok(assigned_answer(&assigned, &deps, false)),
            Err(e) if e.code == "conflict" => {
                last_conflict = e.message;
                lost.push(pick);
                continue;
            }
            Err(e) => return Err(e),
        }
    }
    Err(ApiError::new(
        503,
        "contention",
        format!("too many concurrent claims ({last_conflict}); ask again in a moment"),
    ))
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
) -> Result<Value, ApiError> {
    let open: Vec<Task> = in_progress
        .into_iter()
        .chain(blocked)
        .chain(todo)
        .map(|v| v.value)
        .collect();
    let (secs, reason) = if open.is_empty()
        && records::count(collections::TASKS, &[("project_id", json!(project_id))])? == 0
    {
        (30, "the project has no tasks yet".to_string())
    } else if open.is_empty() {
        (30, "all tasks are complete".to_string())
    } else {
        scheduler::retry_after(&open, now)
    };
    touch_agent(agent, now);
    Ok(json!({
        "success": false,
        "task": null,
        "message": format!("No task available: {reason}"),
        "retry_after_seconds": secs,
        "retry_reason": reason,
        "project_id": project_id,
    }))
}

/// Loads tasks by id in one read (missing ones are left out).
fn load_all(ids: &[String]) -> Result<Vec<Task>, ApiError> {
    Ok(records::get_many::<Task>(collections::TASKS, ids)?
        .into_iter()
        .flatten()
        .map(|t| t.value)
        .collect())
}

fn assigned_answer(task: &Task, dependencies: &[Task], already_held: bool) -> Value {
    let lease = task.lease.clone();
    json!({
        "success": true,
        "task": task_payload(task, dependencies),
        "lease": lease,
        "lease_token": lease.as_ref().map(|l| l.token),
        "lease_expires_at": lease.as_ref().map(|l| l.expires_at),
        "already_assigned": already_held,
        "recovery_note": task.recovery_note,
    })
}

/// Records that the agent called, best effort (a lost race only loses a timestamp).
fn touch_agent(agent: Versioned<Agent>, now: u64) {
    let mut a = agent.value;
    a.last_seen = now;
    if let Ok(change) = Change::update(collections::AGENTS, &a.id.clone(), &a, agent.version) {
        let _ = unit_of_work::commit(vec![change]);
    }
}

fn token_arg(a: &Map<String, Value>) -> Result<Option<u64>, ApiError> {
    match a.get("lease_token") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .map(Some)
            .ok_or_else(|| ApiError::invalid("lease_token must be a non-negative integer")),
    }
}

fn progress_arg(a: &Map<String, Value>) -> Result<Option<u8>, ApiError> {
    match a.get("progress") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_f64() {
            Some(p) if (0.0..=100.0).contains(&p) => Ok(Some(p.round() as u8)),
            _ => Err(ApiError::invalid("progress must be a number from 0 to 100")),
        },
    }
}

/// Releases the agent from `task_id` (and counts a completion).
fn agent_release(
    agent: &Versioned<Agent>,
    task_id: &str,
    completed: bool,
    now: u64,
) -> Result<Change, ApiError> {
    let mut a = agent.value.clone();
    if a.current_task_id.as_deref() == Some(task_id) {
        a.current_task_id = None;
        a.status = AgentStatus::Available;
    }
    if completed {
        a.completed_tasks_count += 1;
    }
    a.last_seen = now;
    Change::update(collections::AGENTS, &a.id, &a, agent.version)
}

fn report_progress(_ctx: &ToolCtx, a: &Map<String, Value>) -> Result<Value, ApiError> {
    let agent_id = args::req_str(a, "agent_id")?;
    let task_id = args::req_str(a, "task_id")?;
    let status = args::req_str(a, "status")?;
    let message = args::opt_str(a, "message")?.unwrap_or_default();
    let token = token_arg(a)?;
    let progress = progress_arg(a)?;
    if !PROGRESS_STATUSES.contains(&status.as_str()) {
        return Err(ApiError::invalid(format!(
            "status must be in_progress, completed or blocked, got {status:?}"
        )));
    }
    if status == "blocked" {
        let mut b = a.clone();
        b.insert(
            "blocker_description".into(),
            Value::String(if message.is_empty() {
                "blocked (reported through progress)".into()
            } else {
                message
            }),
        );
        return report_blocker(_ctx, &b);
    }
    with_retries(|| {
        let (agent, task) = load_agent_and_task(&agent_id, &task_id)?;
        let now = now_ms();
        let (updated, kind) = if status == "completed" {
            (
                lease::complete(&task.value, &agent_id, token, now)?,
                "task_completed",
            )
        } else {
            let p = progress.unwrap_or(task.value.progress);
            (
                lease::renew(&task.value, &agent_id, token, p, now)?,
                "task_progress",
            )
        };
        let entry = ProgressEntry {
            task_id: task_id.clone(),
            project_id: updated.project_id.clone(),
            agent_id: agent_id.clone(),
            status: status.clone(),
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
        if status == "completed" {
            changes.push(agent_release(&agent, &task_id, true, now)?);
            // One dependency fewer for each dependent; in the same atomic change, so the
            // counters can never drift from the statuses.
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
        Ok(json!({
            "success": true,
            "message": if status == "completed" { "Task completed" } else { "Progress recorded; lease renewed" },
            "task_id": task_id,
            "status": updated.status,
            "progress": updated.progress,
            "lease_expires_at": updated.lease.as_ref().map(|l| l.expires_at),
        }))
    })
}

fn report_blocker(_ctx: &ToolCtx, a: &Map<String, Value>) -> Result<Value, ApiError> {
    let agent_id = args::req_str(a, "agent_id")?;
    let task_id = args::req_str(a, "task_id")?;
    let description = args::req_str(a, "blocker_description")?;
    let severity = args::opt_str(a, "severity")?.unwrap_or_else(|| "medium".into());
    if !SEVERITIES.contains(&severity.as_str()) {
        return Err(ApiError::invalid(format!(
            "severity must be low, medium or high, got {severity:?}"
        )));
    }
    let token = token_arg(a)?;
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
            severity: severity.clone(),
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
        Ok(json!({
            "success": true,
            "message": "Blocker recorded; the task is blocked until resolve_blocker or unassign_task",
            "blocker_id": blocker.id,
            "task_id": task_id,
            "blocker": blocker,
        }))
    })
}

fn resolve_blocker(_ctx: &ToolCtx, a: &Map<String, Value>) -> Result<Value, ApiError> {
    let resolution = args::req_str(a, "resolution")?;
    let resolved_by = args::opt_str(a, "resolved_by")?;
    let blocker_id = args::opt_str(a, "blocker_id")?;
    let task_arg = args::opt_str(a, "task_id")?;
    let blockers: Vec<Versioned<Blocker>> = match (&blocker_id, &task_arg) {
        (Some(b), _) => vec![
            records::get::<Blocker>(collections::BLOCKERS, b)?.ok_or_else(|| {
                ApiError::new(
                    404,
                    "blocker_not_found",
                    format!("blocker {b} does not exist"),
                )
            })?,
        ],
        (None, Some(t)) => {
            records::query_all::<Blocker>(collections::BLOCKERS, &[("task_id", json!(t))])?
                .into_iter()
                .filter(|b| b.value.resolved_at.is_none())
                .collect()
        }
        (None, None) => return Err(ApiError::invalid("blocker_id or task_id is required")),
    };
    let task_id = match (&task_arg, blockers.first()) {
        (Some(t), _) => t.clone(),
        (None, Some(b)) => b.value.task_id.clone(),
        (None, None) => return Err(ApiError::invalid("no open blocker to resolve")),
    };
    with_retries(|| {
        let task = load_task(&task_id)?;
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
        Ok(json!({
            "success": true,
            "message": "Blocker resolved; the task is back in the pool",
            "task_id": task_id,
            "task_status": unblocked.status,
            "resolved_blockers": resolved_ids,
        }))
    })
}

fn unassign(_ctx: &ToolCtx, a: &Map<String, Value>) -> Result<Value, ApiError> {
    let task_id = args::req_str(a, "task_id")?;
    let reason = args::opt_str(a, "reason")?.unwrap_or_else(|| "unassigned".into());
    with_retries(|| {
        let task = load_task(&task_id)?;
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
        Ok(json!({
            "success": true,
            "message": format!("Task {task_id} returned to the pool"),
            "task_id": task_id,
            "previous_holder": holder,
            "status": updated.status,
        }))
    })
}
