//! What tasks leave for later ones: `log_decision`, `log_artifact`, `get_task_context`,
//! `check_task_dependencies`.

use super::arg_schemas::{described, id, opt_text, text};
use super::{ToolCtx, ToolSpec, args, work};
use crate::events::BoardEvent;
use crate::ids::{new_id, now_ms};
use crate::records::{self, Change, collections};
use crate::unit_of_work;
use marcus_core::api_error::ApiError;
use marcus_core::board::context;
use marcus_core::board::graph;
use marcus_core::board::model::{Artifact, Decision, Task, TaskStatus};
use serde_json::{Map, Value, json};

/// Largest artifact content Marcus stores, in bytes (the request body limit is 1 MiB).
pub const MAX_ARTIFACT_BYTES: usize = 512 * 1024;

/// `log_decision(agent_id, task_id, decision)`.
pub const LOG_DECISION: ToolSpec = ToolSpec {
    name: "log_decision",
    description: "Record an architectural or implementation decision; later tasks that depend on this one see it in get_task_context.",
    input_schema: || {
        json!({"type": "object", "required": ["agent_id", "task_id", "decision"], "properties": {
            "agent_id": text(),
            "task_id": id(),
            "decision": text()
        }})
    },
    run: log_decision,
};

/// `log_artifact(task_id, filename, content, artifact_type, description?)`.
pub const LOG_ARTIFACT: ToolSpec = ToolSpec {
    name: "log_artifact",
    description: "Store a file-like output of a task (spec, API, design, code...) in Marcus, so dependent tasks can read it without a shared disk.",
    input_schema: || {
        json!({"type": "object", "required": ["task_id", "filename", "content", "artifact_type"], "properties": {
            "task_id": id(),
            "filename": text(),
            "content": {"type": "string", "description": format!("At most {MAX_ARTIFACT_BYTES} bytes of UTF-8 (413 artifact_too_large beyond)")},
            "artifact_type": described(text(), "specification, api, design, architecture, documentation, reference, code, test, ..."),
            "description": opt_text(),
            "agent_id": opt_text(),
            "project_root": described(opt_text(), "Accepted for compatibility; content is stored by Marcus")
        }})
    },
    run: log_artifact,
};

/// `get_task_context(task_id)`.
pub const CONTEXT: ToolSpec = ToolSpec {
    name: "get_task_context",
    description: "A task with the artifacts and decisions of its dependencies (direct ones in full; transitive ones marked reference_only) and who depends on it.",
    input_schema: || json!({"type": "object", "required": ["task_id"], "properties": {"task_id": id()}}),
    run: task_context,
};

/// `check_task_dependencies(task_id)`.
pub const CHECK_DEPENDENCIES: ToolSpec = ToolSpec {
    name: "check_task_dependencies",
    description: "Which dependencies of a task are done and which still block it, and which tasks wait for it.",
    input_schema: || json!({"type": "object", "required": ["task_id"], "properties": {"task_id": id()}}),
    run: check_dependencies,
};

fn log_decision(_ctx: &ToolCtx, a: &Map<String, Value>) -> Result<Value, ApiError> {
    let agent_id = args::req_str(a, "agent_id")?;
    let task_id = args::req_str(a, "task_id")?;
    let text = args::req_str(a, "decision")?;
    let task = work::load_task(&task_id)?.value;
    let decision = Decision {
        id: new_id("dec"),
        task_id: task_id.clone(),
        project_id: task.project_id.clone(),
        agent_id: agent_id.clone(),
        decision: text,
        timestamp: now_ms(),
    };
    let event = BoardEvent::new(
        "decision_logged",
        Some(&task.project_id),
        Some(&agent_id),
        Some(&task_id),
        json!({"decision_id": decision.id}),
    );
    unit_of_work::commit_and_announce(
        vec![Change::create(
            collections::DECISIONS,
            &decision.id,
            &decision,
        )?],
        &event,
    )?;
    Ok(json!({"success": true, "decision_id": decision.id, "decision": decision}))
}

fn log_artifact(_ctx: &ToolCtx, a: &Map<String, Value>) -> Result<Value, ApiError> {
    let task_id = args::req_str(a, "task_id")?;
    let filename = args::req_str(a, "filename")?;
    let artifact_type = args::req_str(a, "artifact_type")?;
    let content = match a.get("content") {
        Some(Value::String(s)) => s.clone(),
        None | Some(Value::Null) => return Err(ApiError::invalid("content is required")),
        Some(_) => return Err(ApiError::invalid("content must be a string")),
    };
    if content.len() > MAX_ARTIFACT_BYTES {
        return Err(ApiError::new(
            413,
            "artifact_too_large",
            format!(
                "content is {} bytes; artifacts are limited to {MAX_ARTIFACT_BYTES} bytes",
                content.len()
            ),
        ));
    }
    let task = work::load_task(&task_id)?.value;
    let artifact = Artifact {
        id: new_id("art"),
        task_id: task_id.clone(),
        project_id: task.project_id.clone(),
        agent_id: args::opt_str(a, "agent_id")?,
        filename,
        artifact_type,
        description: args::opt_str(a, "description")?.unwrap_or_default(),
        size_bytes: content.len() as u64,
        content,
        timestamp: now_ms(),
    };
    let event = BoardEvent::new(
        "artifact_logged",
        Some(&task.project_id),
        artifact.agent_id.as_deref(),
        Some(&task_id),
        json!({"artifact_id": artifact.id, "filename": artifact.filename}),
    );
    unit_of_work::commit_and_announce(
        vec![Change::create(
            collections::ARTIFACTS,
            &artifact.id,
            &artifact,
        )?],
        &event,
    )?;
    Ok(json!({
        "success": true,
        "artifact_id": artifact.id,
        "filename": artifact.filename,
        "artifact_type": artifact.artifact_type,
        "size_bytes": artifact.size_bytes,
        "location": format!("marcus://artifacts/{}", artifact.id),
    }))
}

fn task_context(_ctx: &ToolCtx, a: &Map<String, Value>) -> Result<Value, ApiError> {
    let task_id = args::req_str(a, "task_id")?;
    let task = work::load_task(&task_id)?.value;
    let tasks: Vec<Task> = super::projects::tasks_of(&task.project_id)?
        .into_iter()
        .map(|v| v.value)
        .collect();
    let artifacts: Vec<Artifact> = records::query_all::<Artifact>(
        collections::ARTIFACTS,
        &[("project_id", json!(task.project_id))],
    )?
    .into_iter()
    .map(|v| v.value)
    .collect();
    let decisions: Vec<Decision> = records::query_all::<Decision>(
        collections::DECISIONS,
        &[("project_id", json!(task.project_id))],
    )?
    .into_iter()
    .map(|v| v.value)
    .collect();
    let ctx = context::task_context(&task, &tasks, &artifacts, &decisions);
    Ok(json!({"success": true, "context": ctx}))
}

fn check_dependencies(_ctx: &ToolCtx, a: &Map<String, Value>) -> Result<Value, ApiError> {
    let task_id = args::req_str(a, "task_id")?;
    let task = work::load_task(&task_id)?.value;
    let tasks: Vec<Task> = super::projects::tasks_of(&task.project_id)?
        .into_iter()
        .map(|v| v.value)
        .collect();
    let by_id = |id: &str| tasks.iter().find(|t| t.id == id);
    let mut done = Vec::new();
    let mut pending = Vec::new();
    for d in &task.dependencies {
        match by_id(d) {
            Some(t) if t.status == TaskStatus::Done => done.push(json!({"id": t.id, "name": t.name})),
            Some(t) => pending.push(json!({"id": t.id, "name": t.name, "status": t.status, "assigned_to": t.assigned_to})),
            None => pending.push(json!({"id": d, "name": null, "status": "missing"})),
        }
    }
    let dependents: Vec<Value> = graph::dependents(&tasks)
        .get(&task.id)
        .map(|ids| {
            ids.iter()
                .filter_map(|id| by_id(id))
                .map(|t| json!({"id": t.id, "name": t.name, "status": t.status}))
                .collect()
        })
        .unwrap_or_default();
    Ok(json!({
        "success": true,
        "task_id": task.id,
        "task_name": task.name,
        "all_dependencies_done": pending.is_empty(),
        "completed_dependencies": done,
        "pending_dependencies": pending,
        "dependents": dependents,
    }))
}
