//! What a task's holder should read first: the work its dependencies left, so agents
//! build on each other's artifacts and decisions without a shared disk.

use super::graph::{dependents, transitive_dependencies};
use super::handoff::{self, ArtifactRef, PreviousImplementation, ProjectContract};
use super::model::{Artifact, Decision, Task, TaskStatus, artifact_location};
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::BTreeMap;

/// What every dependency in Marcus is: the dependent cannot start before it is done
/// (upstream also infers soft ones; Marcus only has declared, hard ones).
pub const HARD_DEPENDENCY: &str = "hard";

/// A task that waits for this one, and what it needs from it.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct DependentTask {
    /// Its id.
    pub task_id: String,
    /// Its name.
    pub task_name: String,
    /// What it builds on this task's output: its description (its name when it has none).
    pub expected_interface: String,
    /// Always `hard` ([`HARD_DEPENDENCY`]).
    pub dependency_type: String,
}

/// Finished work elsewhere in the project that resembles this task.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct RelatedPattern {
    /// The finished task's id.
    pub task_id: String,
    /// Its name.
    pub task_name: String,
    /// The labels it shares with this task.
    pub shared_labels: Vec<String>,
    /// Its artifacts, by reference.
    pub artifacts: Vec<ArtifactRef>,
}

/// What a task's previous holder left, when its lease lapsed or it was unassigned.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct RecoveryInfo {
    /// The note written when the previous holder lost the task.
    pub note: String,
    /// How far the previous holder got, in percent.
    pub progress: u8,
    /// How many artifacts the task already has.
    pub artifacts_left: usize,
}

/// A dependency with what it produced.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct DependencyContext {
    /// Task id.
    pub task_id: String,
    /// Task name.
    pub name: String,
    /// Its status.
    pub status: super::model::TaskStatus,
    /// True for transitive dependencies: background, not direct input.
    pub reference_only: bool,
    /// Artifacts it logged.
    pub artifacts: Vec<Artifact>,
    /// Decisions it logged.
    pub decisions: Vec<Decision>,
}

/// A task with its dependencies' work and the tasks that wait for it.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct TaskContext {
    /// The task.
    pub task: Task,
    /// Direct dependencies first, then transitive ones (`reference_only`).
    pub dependencies: Vec<DependencyContext>,
    /// The task's id (upstream's name).
    pub task_id: String,
    /// The tasks that depend on this one, and what each needs from it.
    pub dependent_tasks: Vec<DependentTask>,
    /// Artifacts of direct dependencies, flattened (upstream's field).
    pub dependency_artifacts: Vec<Artifact>,
    /// Decisions of direct dependencies, flattened.
    pub dependency_decisions: Vec<Decision>,
    /// This task's own artifacts so far (a new holder's starting point after a recovery).
    pub own_artifacts: Vec<Artifact>,
    /// This task's own decisions so far.
    pub own_decisions: Vec<Decision>,
    /// Each direct dependency's work, by its id.
    pub previous_implementations: BTreeMap<String, PreviousImplementation>,
    /// Finished tasks of the project, outside its dependency chain, that share a label
    /// with it.
    pub related_patterns: Vec<RelatedPattern>,
    /// The decisions of every task it depends on, directly or not, in time order.
    pub architectural_decisions: Vec<Decision>,
    /// Always false: Marcus does not split tasks into subtasks (upstream's decomposer does).
    pub is_subtask: bool,
    /// Every artifact it can build on or already has, by reference: those of its
    /// dependencies (direct, then transitive), then its own.
    pub artifacts: Vec<ArtifactRef>,
    /// The interface artifacts and the decisions of every task it depends on.
    pub project_contract: ProjectContract,
    /// What the previous holder left, when it lost the task; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_info: Option<RecoveryInfo>,
}

/// Builds the context of `task` from the project's tasks, artifacts and decisions; every
/// list is in time order (then id), whatever order storage returned.
pub fn task_context(
    task: &Task,
    tasks: &[Task],
    artifacts: &[Artifact],
    decisions: &[Decision],
) -> TaskContext {
    let (direct, indirect) = transitive_dependencies(tasks, &task.id);
    let of = |id: &str, reference_only: bool| {
        tasks
            .iter()
            .find(|t| t.id == id)
            .map(|t| DependencyContext {
                task_id: t.id.clone(),
                name: t.name.clone(),
                status: t.status,
                reference_only,
                artifacts: artifacts_of(artifacts, &t.id),
                decisions: decisions_of(decisions, &t.id),
            })
    };
    let mut deps: Vec<DependencyContext> = direct.iter().filter_map(|id| of(id, false)).collect();
    deps.extend(indirect.iter().filter_map(|id| of(id, true)));
    let dependency_artifacts = deps
        .iter()
        .filter(|d| !d.reference_only)
        .flat_map(|d| d.artifacts.clone())
        .collect();
    let dependency_decisions = deps
        .iter()
        .filter(|d| !d.reference_only)
        .flat_map(|d| d.decisions.clone())
        .collect();
    let dependent_tasks = dependents(tasks)
        .get(&task.id)
        .map(|ids| {
            ids.iter()
                .filter_map(|id| tasks.iter().find(|t| &t.id == id))
                .map(|t| DependentTask {
                    task_id: t.id.clone(),
                    task_name: t.name.clone(),
                    expected_interface: if t.description.trim().is_empty() {
                        t.name.clone()
                    } else {
                        t.description.clone()
                    },
                    dependency_type: HARD_DEPENDENCY.to_string(),
                })
                .collect()
        })
        .unwrap_or_default();
    let previous_implementations = deps
        .iter()
        .filter(|d| !d.reference_only)
        .map(|d| {
            let completed_by = tasks
                .iter()
                .find(|t| t.id == d.task_id)
                .and_then(|t| t.completed_by.clone());
            let implementation = PreviousImplementation {
                task_id: d.task_id.clone(),
                task_name: d.name.clone(),
                completed_by,
                artifacts: d
                    .artifacts
                    .iter()
                    .map(|a| artifact_location(&a.id))
                    .collect(),
            };
            (d.task_id.clone(), implementation)
        })
        .collect();
    let chain_artifacts: Vec<Artifact> = deps.iter().flat_map(|d| d.artifacts.clone()).collect();
    let chain_decisions: Vec<Decision> = deps.iter().flat_map(|d| d.decisions.clone()).collect();
    let own_artifacts = artifacts_of(artifacts, &task.id);
    let chain: Vec<&str> = deps.iter().map(|d| d.task_id.as_str()).collect();
    TaskContext {
        task_id: task.id.clone(),
        previous_implementations,
        related_patterns: related_patterns(task, tasks, artifacts, &chain),
        architectural_decisions: handoff::decisions_in_time_order(&chain_decisions),
        is_subtask: false,
        artifacts: chain_artifacts
            .iter()
            .chain(&own_artifacts)
            .map(ArtifactRef::from)
            .collect(),
        project_contract: handoff::contract(&chain_artifacts, &chain_decisions),
        recovery_info: task.recovery_note.as_ref().map(|note| RecoveryInfo {
            note: note.clone(),
            progress: task.progress,
            artifacts_left: own_artifacts.len(),
        }),
        task: task.clone(),
        dependencies: deps,
        dependent_tasks,
        dependency_artifacts,
        dependency_decisions,
        own_artifacts,
        own_decisions: decisions_of(decisions, &task.id),
    }
}

/// Finished tasks outside `chain` (and other than `task`) sharing a label with it, by
/// creation order, with their artifacts.
fn related_patterns(
    task: &Task,
    tasks: &[Task],
    artifacts: &[Artifact],
    chain: &[&str],
) -> Vec<RelatedPattern> {
    tasks
        .iter()
        .filter(|t| t.id != task.id && t.status == TaskStatus::Done)
        .filter(|t| !chain.contains(&t.id.as_str()))
        .filter_map(|t| {
            let shared: Vec<String> = t
                .labels
                .iter()
                .filter(|l| task.labels.iter().any(|m| m.eq_ignore_ascii_case(l)))
                .cloned()
                .collect();
            (!shared.is_empty()).then(|| RelatedPattern {
                task_id: t.id.clone(),
                task_name: t.name.clone(),
                shared_labels: shared,
                artifacts: artifacts_of(artifacts, &t.id)
                    .iter()
                    .map(ArtifactRef::from)
                    .collect(),
            })
        })
        .collect()
}

fn artifacts_of(artifacts: &[Artifact], task_id: &str) -> Vec<Artifact> {
    let mut out: Vec<Artifact> = artifacts
        .iter()
        .filter(|a| a.task_id == task_id)
        .cloned()
        .collect();
    out.sort_by(|a, b| (a.timestamp, &a.id).cmp(&(b.timestamp, &b.id)));
    out
}

fn decisions_of(decisions: &[Decision], task_id: &str) -> Vec<Decision> {
    let mut out: Vec<Decision> = decisions
        .iter()
        .filter(|d| d.task_id == task_id)
        .cloned()
        .collect();
    out.sort_by(|a, b| (a.timestamp, &a.id).cmp(&(b.timestamp, &b.id)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::board::graph::tests::task;
    use crate::board::handoff::tests::decision;

    fn artifact(task_id: &str) -> Artifact {
        Artifact {
            id: format!("art-{task_id}"),
            task_id: task_id.into(),
            project_id: "p".into(),
            agent_id: None,
            filename: format!("{task_id}.md"),
            artifact_type: "design".into(),
            description: String::new(),
            content: "x".into(),
            size_bytes: 1,
            timestamp: 0,
        }
    }

    #[test]
    fn direct_dependencies_in_full_transitive_as_reference() {
        let tasks = vec![
            task("a", &[], 1.0),
            task("b", &["a"], 1.0),
            task("c", &["a"], 1.0),
            task("d", &["b", "c"], 1.0),
        ];
        let arts = vec![artifact("a"), artifact("b"), artifact("c")];
        let ctx = task_context(&tasks[3], &tasks, &arts, &[]);
        let flags: Vec<(&str, bool)> = ctx
            .dependencies
            .iter()
            .map(|d| (d.task_id.as_str(), d.reference_only))
            .collect();
        assert_eq!(flags, vec![("b", false), ("c", false), ("a", true)]);
        let files: Vec<&str> = ctx
            .dependency_artifacts
            .iter()
            .map(|a| a.filename.as_str())
            .collect();
        assert_eq!(files, vec!["b.md", "c.md"]);
        let a_ctx = task_context(&tasks[0], &tasks, &arts, &[]);
        let waiting: Vec<&str> = a_ctx
            .dependent_tasks
            .iter()
            .map(|d| d.task_name.as_str())
            .collect();
        assert_eq!(waiting, vec!["b", "c"]);
        assert_eq!(a_ctx.dependent_tasks[0].dependency_type, "hard");
        assert_eq!(a_ctx.own_artifacts.len(), 1);
        assert_eq!(a_ctx.task_id, "a");
        let implemented: Vec<&String> = ctx.previous_implementations.keys().collect();
        assert_eq!(implemented, vec!["b", "c"], "direct dependencies only");
        assert_eq!(ctx.artifacts.len(), 3, "b, c and the transitive a");
        assert_eq!(
            ctx.project_contract.artifacts.len(),
            3,
            "design is an interface"
        );
        assert_eq!(ctx.recovery_info, None);
    }

    #[test]
    fn decisions_in_time_order_and_indirect_ones_only_for_reference() {
        let tasks = vec![
            task("a", &[], 1.0),
            task("b", &["a"], 1.0),
            task("c", &["b", "missing"], 1.0),
        ];
        let decisions = vec![
            decision("d2", "b", 20),
            decision("d1", "b", 10),
            decision("d0", "a", 5),
            decision("own", "c", 30),
        ];
        let ctx = task_context(&tasks[2], &tasks, &[], &decisions);
        let deps: Vec<(&str, bool, usize)> = ctx
            .dependencies
            .iter()
            .map(|d| (d.task_id.as_str(), d.reference_only, d.decisions.len()))
            .collect();
        assert_eq!(deps, vec![("b", false, 2), ("a", true, 1)]);
        let direct: Vec<&str> = ctx
            .dependency_decisions
            .iter()
            .map(|d| d.id.as_str())
            .collect();
        assert_eq!(direct, vec!["d1", "d2"]);
        assert_eq!(ctx.own_decisions.len(), 1);
        assert!(ctx.dependent_tasks.is_empty());
        let v = serde_json::to_value(&ctx).unwrap();
        assert_eq!(v["dependencies"][1]["reference_only"], true);
        assert_eq!(v["task"]["id"], "c");
    }
}
