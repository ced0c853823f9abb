//! What tasks leave for later ones: `log_decision`, `log_artifact`, `get_task_context`,
//! `check_task_dependencies`.

use super::board_reads;
use super::fields::{Id, Str, Text};
use super::hints::Hints;
use super::tool::{Tool, ToolCtx};
use crate::board_error::BoardError;
use crate::events::BoardEvent;
use crate::ids::{new_id, now_ms};
use crate::records::{self, Change, collections};
use crate::unit_of_work;
use marcus_core::board::context::{self, TaskContext};
use marcus_core::board::dependency_report::{self, DependencyReport};
use marcus_core::board::graph;
use marcus_core::board::model::{Artifact, Decision, Task, TaskStatus, artifact_location};
use marcus_identity::access::Access;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Largest artifact content Marcus stores, in bytes (the request body limit is 1 MiB).
pub const MAX_ARTIFACT_BYTES: usize = 512 * 1024;

/// `log_decision(agent_id, task_id, decision)`.
pub struct LogDecision;

/// A decision taken on a task.
#[derive(Deserialize, JsonSchema)]
pub struct LogDecisionArgs {
    /// Who decided.
    agent_id: Text,
    /// The task it was decided on.
    task_id: Id,
    /// What was decided, and why.
    decision: Text,
}

/// The recorded decision.
#[derive(Serialize, JsonSchema)]
pub struct LogDecisionAnswer {
    success: bool,
    /// The decision's id.
    decision_id: String,
    /// For people.
    message: String,
    /// The stored decision.
    decision: Decision,
}

impl Tool for LogDecision {
    const NAME: &'static str = "log_decision";
    const DESCRIPTION: &'static str = "Record an architectural or implementation decision; later tasks that depend on this one see it in get_task_context.";
    const HINTS: Hints = Hints::write(false, false);
    const ACCESS: Access = Access::ActAsAgent;
    const RENEWS_HOLDER: bool = true;
    type Args = LogDecisionArgs;
    type Answer = LogDecisionAnswer;

    fn run(_ctx: &ToolCtx, a: LogDecisionArgs) -> Result<LogDecisionAnswer, BoardError> {
        let (agent_id, task_id) = (a.agent_id.0, a.task_id.0);
        let task = board_reads::task(&task_id)?.value;
        let decision = Decision {
            id: new_id("dec"),
            task_id: task_id.clone(),
            project_id: task.project_id.clone(),
            agent_id: agent_id.clone(),
            decision: a.decision.0,
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
        Ok(LogDecisionAnswer {
            success: true,
            message: format!(
                "Decision logged on task {}; tasks that depend on it see it in get_task_context",
                task.name
            ),
            decision_id: decision.id.clone(),
            decision,
        })
    }
}

/// `log_artifact(task_id, filename, content, artifact_type, description?)`.
pub struct LogArtifact;

/// A file-like output of a task.
#[derive(Deserialize, JsonSchema)]
pub struct LogArtifactArgs {
    /// The task it belongs to.
    task_id: Id,
    /// Its file name.
    filename: Text,
    /// At most 524288 bytes of UTF-8 (413 artifact_too_large beyond).
    content: Str,
    /// specification, api, design, architecture, documentation, reference, code, test, ...
    artifact_type: Text,
    /// What it is.
    description: Option<Str>,
    /// Who logged it.
    agent_id: Option<Str>,
    /// Accepted for compatibility; content is stored by Marcus.
    project_root: Option<Str>,
}

/// Where the artifact is kept.
#[derive(Serialize, JsonSchema)]
pub struct LogArtifactAnswer {
    success: bool,
    /// The artifact's id.
    artifact_id: String,
    /// Its file name.
    filename: String,
    /// Its kind.
    artifact_type: String,
    /// Its size.
    size_bytes: u64,
    /// Where Marcus keeps it (`marcus://artifacts/<id>`).
    location: String,
    /// The artifact as upstream describes it.
    data: ArtifactData,
}

/// A logged artifact, by upstream's names.
#[derive(Serialize, JsonSchema)]
pub struct ArtifactData {
    /// The task it belongs to.
    task_id: String,
    /// Its file name.
    filename: String,
    /// Where Marcus keeps it (`marcus://artifacts/<id>`).
    location: String,
    /// Its kind.
    artifact_type: String,
    /// What it is.
    description: String,
}

impl Tool for LogArtifact {
    const NAME: &'static str = "log_artifact";
    const DESCRIPTION: &'static str = "Store a file-like output of a task (spec, API, design, code...) in Marcus, so dependent tasks can read it without a shared disk.";
    const HINTS: Hints = Hints::write(false, false);
    const ACCESS: Access = Access::ActAsAgent;
    const RENEWS_HOLDER: bool = true;
    type Args = LogArtifactArgs;
    type Answer = LogArtifactAnswer;

    fn run(_ctx: &ToolCtx, a: LogArtifactArgs) -> Result<LogArtifactAnswer, BoardError> {
        let task_id = a.task_id.0;
        let content = a.content.0;
        let _ = a.project_root;
        if content.len() > MAX_ARTIFACT_BYTES {
            return Err(BoardError::TooLarge(format!(
                "content is {} bytes; artifacts are limited to {MAX_ARTIFACT_BYTES} bytes",
                content.len()
            )));
        }
        let task = board_reads::task(&task_id)?.value;
        let artifact = Artifact {
            id: new_id("art"),
            task_id: task_id.clone(),
            project_id: task.project_id.clone(),
            agent_id: a.agent_id.map(|s| s.0),
            filename: a.filename.0,
            artifact_type: a.artifact_type.0,
            description: a.description.map(|s| s.0).unwrap_or_default(),
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
        let location = artifact_location(&artifact.id);
        Ok(LogArtifactAnswer {
            success: true,
            data: ArtifactData {
                task_id: artifact.task_id,
                filename: artifact.filename.clone(),
                location: location.clone(),
                artifact_type: artifact.artifact_type.clone(),
                description: artifact.description,
            },
            location,
            artifact_id: artifact.id,
            filename: artifact.filename,
            artifact_type: artifact.artifact_type,
            size_bytes: artifact.size_bytes,
        })
    }
}

/// Which task.
#[derive(Deserialize, JsonSchema)]
pub struct TaskArgs {
    /// The task's id.
    task_id: Id,
}

/// `get_task_context(task_id)`.
pub struct Context;

/// A task's context.
#[derive(Serialize, JsonSchema)]
pub struct ContextAnswer {
    success: bool,
    /// The task, its dependencies' work and its dependents.
    context: TaskContext,
}

impl Tool for Context {
    const NAME: &'static str = "get_task_context";
    const DESCRIPTION: &'static str = "A task with the artifacts and decisions of its dependencies (direct ones in full; transitive ones marked reference_only) and who depends on it.";
    const HINTS: Hints = Hints::READ;
    const ACCESS: Access = Access::Read;
    const RENEWS_HOLDER: bool = true;
    type Args = TaskArgs;
    type Answer = ContextAnswer;

    fn run(_ctx: &ToolCtx, a: TaskArgs) -> Result<ContextAnswer, BoardError> {
        let task = board_reads::task(&a.task_id.0)?.value;
        let tasks: Vec<Task> = board_reads::tasks_of(&task.project_id)?
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
        Ok(ContextAnswer {
            success: true,
            context: context::task_context(&task, &tasks, &artifacts, &decisions),
        })
    }
}

/// `check_task_dependencies(task_id)`.
pub struct CheckDependencies;

/// A finished dependency.
#[derive(Serialize, JsonSchema)]
pub struct DoneDependency {
    /// Its id.
    id: String,
    /// Its name.
    name: String,
}

/// The status of a dependency that is not done; `missing` when no such task exists.
#[derive(Serialize, JsonSchema)]
#[serde(untagged)]
pub enum PendingStatus {
    /// The task's status.
    Task(TaskStatus),
    /// No task has the id.
    Missing(MissingTask),
}

/// The word for a dependency that names no task.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MissingTask {
    /// No task has the id.
    Missing,
}

/// A dependency that still blocks the task.
#[derive(Serialize, JsonSchema)]
pub struct PendingDependency {
    /// Its id.
    id: String,
    /// Its name (`null` when no task has the id).
    name: Option<String>,
    /// Where it is.
    status: PendingStatus,
    /// Who holds it (absent when no task has the id).
    #[serde(skip_serializing_if = "Option::is_none")]
    assigned_to: Option<Option<String>>,
}

/// A task that waits for this one.
#[derive(Serialize, JsonSchema)]
pub struct Dependent {
    /// Its id.
    id: String,
    /// Its name.
    name: String,
    /// Its status.
    status: TaskStatus,
}

/// Where a task's dependencies are.
#[derive(Serialize, JsonSchema)]
pub struct CheckDependenciesAnswer {
    success: bool,
    /// The task's id.
    task_id: String,
    /// The task's name.
    task_name: String,
    /// Whether nothing blocks it any more.
    all_dependencies_done: bool,
    /// Dependencies that are done.
    completed_dependencies: Vec<DoneDependency>,
    /// Dependencies that still block it.
    pending_dependencies: Vec<PendingDependency>,
    /// Tasks that wait for it.
    dependents: Vec<Dependent>,
    /// The same by upstream's names, with cycles and the completion order.
    #[serde(flatten)]
    report: DependencyReport,
}

impl Tool for CheckDependencies {
    const NAME: &'static str = "check_task_dependencies";
    const DESCRIPTION: &'static str = "Which dependencies of a task are done and which still block it, and which tasks wait for it.";
    const HINTS: Hints = Hints::READ;
    const ACCESS: Access = Access::Read;
    const RENEWS_HOLDER: bool = true;
    type Args = TaskArgs;
    type Answer = CheckDependenciesAnswer;

    fn run(_ctx: &ToolCtx, a: TaskArgs) -> Result<CheckDependenciesAnswer, BoardError> {
        let task = board_reads::task(&a.task_id.0)?.value;
        let tasks: Vec<Task> = board_reads::tasks_of(&task.project_id)?
            .into_iter()
            .map(|v| v.value)
            .collect();
        let by_id = |id: &str| tasks.iter().find(|t| t.id == id);
        let mut done = Vec::new();
        let mut pending = Vec::new();
        for d in &task.dependencies {
            match by_id(d) {
                Some(t) if t.status == TaskStatus::Done => done.push(DoneDependency {
                    id: t.id.clone(),
                    name: t.name.clone(),
                }),
                Some(t) => pending.push(PendingDependency {
                    id: t.id.clone(),
                    name: Some(t.name.clone()),
                    status: PendingStatus::Task(t.status),
                    assigned_to: Some(t.assigned_to.clone()),
                }),
                None => pending.push(PendingDependency {
                    id: d.clone(),
                    name: None,
                    status: PendingStatus::Missing(MissingTask::Missing),
                    assigned_to: None,
                }),
            }
        }
        let dependents: Vec<Dependent> = graph::dependents(&tasks)
            .get(&task.id)
            .map(|ids| {
                ids.iter()
                    .filter_map(|id| by_id(id))
                    .map(|t| Dependent {
                        id: t.id.clone(),
                        name: t.name.clone(),
                        status: t.status,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let report = dependency_report::report(&task, &tasks);
        Ok(CheckDependenciesAnswer {
            success: true,
            report,
            task_id: task.id,
            task_name: task.name,
            all_dependencies_done: pending.is_empty(),
            completed_dependencies: done,
            pending_dependencies: pending,
            dependents,
        })
    }
}
