//! Project tools: `create_project`, `create_tasks`, `list_projects`, `select_project`,
//! `get_project_status`, `get_all_board_tasks`.

use super::arg_schemas::{described, given, opt_choice, opt_count, opt_id, opt_text, text};
use super::{ToolCtx, ToolSpec, args, scope};
use crate::events::BoardEvent;
use crate::ids::{new_id, now_ms};
use crate::records::{self, Change, Versioned, collections};
use crate::unit_of_work;
use marcus_core::api_error::ApiError;
use marcus_core::board::graph::{self, NewTask};
use marcus_core::board::model::{Project, Task, TaskStatus};
use marcus_core::board::{annotate, health};
use serde_json::{Map, Value, json};

/// Most tasks accepted in one call.
const MAX_TASKS_PER_CALL: usize = 5000;

fn task_item_schema() -> Value {
    let list = json!({"type": ["array", "null"], "items": {"type": "string"}});
    json!({"type": "object", "required": ["name"], "additionalProperties": false, "properties": {
        "name": described(text(), "Unique within the project"),
        "description": opt_text(),
        "priority": described(opt_choice(&["low", "medium", "high", "urgent"]), "Read in any case; medium when absent"),
        "labels": list.clone(),
        "dependencies": described(list.clone(), "Names or ids of tasks that must be done first"),
        "estimated_hours": {"type": ["number", "null"], "minimum": 0},
        "acceptance_criteria": list.clone()
    }})
}

/// `create_project(project_name, description, tasks?, options?)`.
pub const CREATE_PROJECT: ToolSpec = ToolSpec {
    name: "create_project",
    description: "Create a project, optionally with its tasks (dependencies by name or id; the whole graph is validated, nothing is half-written).",
    input_schema: || {
        json!({"type": "object", "required": ["project_name"], "properties": {
            "project_name": text(),
            "description": opt_text(),
            "tasks": {"type": ["array", "null"], "maxItems": MAX_TASKS_PER_CALL, "items": task_item_schema()},
            "options": {"type": ["object", "null"], "properties": {
                "lease_seconds": described(opt_count(1), "Lease length at assignment (default 180)")
            }}
        }})
    },
    run: create_project,
};

/// `create_tasks(project_id, tasks)`.
pub const CREATE_TASKS: ToolSpec = ToolSpec {
    name: "create_tasks",
    description: "Add tasks to a project; dependencies may name existing tasks or tasks in the same call.",
    input_schema: || {
        json!({"type": "object", "required": ["tasks"], "properties": {
            "project_id": opt_id(),
            "tasks": {"type": "array", "minItems": 1, "maxItems": MAX_TASKS_PER_CALL, "items": task_item_schema()}
        }})
    },
    run: create_tasks,
};

/// `list_projects()`.
pub const LIST: ToolSpec = ToolSpec {
    name: "list_projects",
    description: "Every project with its completion.",
    input_schema: || json!({"type": "object", "properties": {}}),
    run: list_projects,
};

/// `select_project(project_id | project_name)`.
pub const SELECT: ToolSpec = ToolSpec {
    name: "select_project",
    description: "Choose the project that project-scoped calls of this MCP session (or this agent) default to.",
    input_schema: || {
        json!({"type": "object", "properties": {
            "project_id": opt_id(),
            "project_name": opt_text(),
            "agent_id": described(opt_id(), "Also make it this agent's default project")
        }, "anyOf": [given("project_id"), given("project_name")]})
    },
    run: select_project,
};

/// `get_project_status(project_id?)`.
pub const STATUS: ToolSpec = ToolSpec {
    name: "get_project_status",
    description: "Completion, counts by status, velocity and ETA of a project.",
    input_schema: || json!({"type": "object", "properties": {"project_id": opt_id()}}),
    run: project_status,
};

/// `get_all_board_tasks(project_id?)`.
pub const ALL_TASKS: ToolSpec = ToolSpec {
    name: "get_all_board_tasks",
    description: "Every task of a project with its status, holder and dependencies.",
    input_schema: || {
        json!({"type": "object", "properties": {
            "project_id": opt_id(),
            "status": opt_choice(TaskStatus::NAMES)
        }})
    },
    run: all_tasks,
};

/// Loads a project or fails with `project_not_found`.
pub fn load(project_id: &str) -> Result<Versioned<Project>, ApiError> {
    records::get::<Project>(collections::PROJECTS, project_id)?.ok_or_else(|| {
        ApiError::new(
            404,
            "project_not_found",
            format!("project {project_id} does not exist"),
        )
    })
}

/// Every task of a project.
pub fn tasks_of(project_id: &str) -> Result<Vec<Versioned<Task>>, ApiError> {
    records::query_all::<Task>(collections::TASKS, &[("project_id", json!(project_id))])
}

fn parse_new_tasks(a: &Map<String, Value>) -> Result<Vec<NewTask>, ApiError> {
    let items = match a.get("tasks") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(ApiError::invalid("tasks must be a list of task objects")),
    };
    if items.len() > MAX_TASKS_PER_CALL {
        return Err(ApiError::invalid(format!(
            "at most {MAX_TASKS_PER_CALL} tasks per call, got {}",
            items.len()
        )));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            serde_json::from_value::<NewTask>(item.clone())
                .map_err(|e| ApiError::invalid(format!("tasks[{i}]: {e}")))
        })
        .collect()
}

fn create_project(_ctx: &ToolCtx, a: &Map<String, Value>) -> Result<Value, ApiError> {
    let name = args::req_str(a, "project_name")?;
    let description = args::opt_str(a, "description")?.unwrap_or_default();
    let options = match a.get("options") {
        None | Some(Value::Null) => None,
        Some(Value::Object(o)) => Some(o),
        Some(_) => return Err(ApiError::invalid("options must be an object")),
    };
    let lease_seconds = match options.and_then(|o| o.get("lease_seconds")) {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_u64().filter(|s| *s >= 1).ok_or_else(|| {
            ApiError::invalid("options.lease_seconds must be a positive integer")
        })?),
    };
    let new_tasks = parse_new_tasks(a)?;
    let now = now_ms();
    let project = Project {
        id: new_id("proj"),
        name,
        description,
        lease_seconds,
        created_at: now,
    };
    let mut tasks = graph::plan_new_tasks(&project.id, &[], &new_tasks, || new_id("task"), now)?;
    annotate::annotate(&mut tasks);
    let event = BoardEvent::new(
        "project_created",
        Some(&project.id),
        None,
        None,
        json!({"name": project.name, "tasks": tasks.len()}),
    );
    let mut changes = vec![Change::create(
        collections::PROJECTS,
        &project.id,
        &project,
    )?];
    for t in &tasks {
        changes.push(Change::create(collections::TASKS, &t.id, t)?);
    }
    unit_of_work::commit_and_announce(changes, &event)?;
    Ok(json!({
        "success": true,
        "project_id": project.id,
        "project": project,
        "tasks_created": tasks.len(),
        "tasks": tasks.iter().map(|t| json!({"id": t.id, "name": t.name, "dependencies": t.dependencies})).collect::<Vec<_>>(),
    }))
}

fn create_tasks(ctx: &ToolCtx, a: &Map<String, Value>) -> Result<Value, ApiError> {
    let project_id = scope::project_id(ctx, a, None)?;
    let new_tasks = parse_new_tasks(a)?;
    if new_tasks.is_empty() {
        return Err(ApiError::invalid("tasks must contain at least one task"));
    }
    let existing = tasks_of(&project_id)?;
    let existing_tasks: Vec<Task> = existing.iter().map(|v| v.value.clone()).collect();
    let now = now_ms();
    let tasks = graph::plan_new_tasks(
        &project_id,
        &existing_tasks,
        &new_tasks,
        || new_id("task"),
        now,
    )?;
    // New edges change reverse edges and critical-path weights of existing tasks too.
    let mut all: Vec<Task> = existing_tasks
        .into_iter()
        .chain(tasks.iter().cloned())
        .collect();
    let changed = annotate::annotate(&mut all);
    let (old_part, new_part) = all.split_at(existing.len());
    let tasks: Vec<Task> = new_part.to_vec();
    let event = BoardEvent::new(
        "tasks_created",
        Some(&project_id),
        None,
        None,
        json!({"task_ids": tasks.iter().map(|t| &t.id).collect::<Vec<_>>()}),
    );
    let mut changes = Vec::with_capacity(tasks.len() + changed.len() + 1);
    for (t, stored) in old_part.iter().zip(&existing) {
        if changed.contains(&t.id) {
            changes.push(Change::update(
                collections::TASKS,
                &t.id,
                t,
                stored.version,
            )?);
        }
    }
    for t in &tasks {
        changes.push(Change::create(collections::TASKS, &t.id, t)?);
    }
    unit_of_work::commit_and_announce(changes, &event)?;
    Ok(json!({
        "success": true,
        "project_id": project_id,
        "tasks_created": tasks.len(),
        "tasks": tasks.iter().map(|t| json!({"id": t.id, "name": t.name, "dependencies": t.dependencies})).collect::<Vec<_>>(),
    }))
}

fn list_projects(_ctx: &ToolCtx, _a: &Map<String, Value>) -> Result<Value, ApiError> {
    let now = now_ms();
    let mut out = Vec::new();
    for p in records::query_all::<Project>(collections::PROJECTS, &[])? {
        let tasks: Vec<Task> = tasks_of(&p.value.id)?
            .into_iter()
            .map(|v| v.value)
            .collect();
        let status = health::project_status(&tasks, now);
        out.push(json!({
            "id": p.value.id,
            "project_id": p.value.id,
            "name": p.value.name,
            "description": p.value.description,
            "created_at": p.value.created_at,
            "total_tasks": status.total,
            "completion_percentage": status.completion_percentage,
        }));
    }
    Ok(json!({"success": true, "projects": out, "count": out.len()}))
}

fn select_project(ctx: &ToolCtx, a: &Map<String, Value>) -> Result<Value, ApiError> {
    let project = match (
        args::opt_str(a, "project_id")?,
        args::opt_str(a, "project_name")?,
    ) {
        (Some(id), _) => load(&id)?.value,
        (None, Some(name)) => {
            records::query_all::<Project>(collections::PROJECTS, &[("name", json!(name))])?
                .into_iter()
                .next()
                .map(|v| v.value)
                .ok_or_else(|| {
                    ApiError::new(
                        404,
                        "project_not_found",
                        format!("no project named {name:?}"),
                    )
                })?
        }
        (None, None) => return Err(ApiError::invalid("project_id or project_name is required")),
    };
    let session = scope::select_for_session(ctx, &project.id)?;
    let mut agent_updated = false;
    if let Some(agent_id) = args::opt_str(a, "agent_id")? {
        for _ in 0..5 {
            let agent = super::agents::load(&agent_id)?;
            let mut rec = agent.value.clone();
            rec.project_id = Some(project.id.clone());
            match unit_of_work::commit(vec![Change::update(
                collections::AGENTS,
                &agent_id,
                &rec,
                agent.version,
            )?]) {
                Ok(()) => {
                    agent_updated = true;
                    break;
                }
                Err(e) if e.code == "conflict" => continue,
                Err(e) => return Err(e),
            }
        }
    }
    Ok(json!({
        "success": true,
        "project_id": project.id,
        "project": project,
        "selected_for_session": session,
        "selected_for_agent": agent_updated,
    }))
}

fn project_status(ctx: &ToolCtx, a: &Map<String, Value>) -> Result<Value, ApiError> {
    let project_id = scope::project_id(ctx, a, None)?;
    let project = load(&project_id)?.value;
    let tasks: Vec<Task> = tasks_of(&project_id)?
        .into_iter()
        .map(|v| v.value)
        .collect();
    let status = health::project_status(&tasks, now_ms());
    Ok(json!({
        "success": true,
        "project_id": project_id,
        "project": project,
        "status": status,
    }))
}

fn all_tasks(ctx: &ToolCtx, a: &Map<String, Value>) -> Result<Value, ApiError> {
    let project_id = scope::project_id(ctx, a, None)?;
    let filter = args::opt_str(a, "status")?;
    if let Some(f) = &filter
        && !TaskStatus::NAMES.contains(&f.as_str())
    {
        return Err(ApiError::invalid(format!(
            "status must be one of {}, got {f:?}",
            TaskStatus::NAMES.join(", ")
        )));
    }
    let tasks: Vec<Task> = tasks_of(&project_id)?
        .into_iter()
        .map(|v| v.value)
        .filter(|t| {
            filter.as_deref().is_none_or(|f| {
                serde_json::to_value(t.status)
                    .ok()
                    .and_then(|s| s.as_str().map(|s| s == f))
                    .unwrap_or(false)
            })
        })
        .collect();
    Ok(json!({"success": true, "project_id": project_id, "tasks": tasks, "count": tasks.len()}))
}
