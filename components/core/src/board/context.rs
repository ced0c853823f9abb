//! What a task's holder should read first: the work its dependencies left, so agents
//! build on each other's artifacts and decisions without a shared disk.

use super::graph::{dependents, transitive_dependencies};
use super::model::{Artifact, Decision, Task};
use schemars::JsonSchema;
use serde::Serialize;

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
    /// Names of tasks that depend on this one.
    pub dependent_tasks: Vec<String>,
    /// Artifacts of direct dependencies, flattened (upstream's field).
    pub dependency_artifacts: Vec<Artifact>,
    /// Decisions of direct dependencies, flattened.
    pub dependency_decisions: Vec<Decision>,
    /// This task's own artifacts so far (a new holder's starting point after a recovery).
    pub own_artifacts: Vec<Artifact>,
    /// This task's own decisions so far.
    pub own_decisions: Vec<Decision>,
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
                .map(|t| t.name.clone())
                .collect()
        })
        .unwrap_or_default();
    TaskContext {
        task: task.clone(),
        dependencies: deps,
        dependent_tasks,
        dependency_artifacts,
        dependency_decisions,
        own_artifacts: artifacts_of(artifacts, &task.id),
        own_decisions: decisions_of(decisions, &task.id),
    }
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
        assert_eq!(a_ctx.dependent_tasks, vec!["b", "c"]);
        assert_eq!(a_ctx.own_artifacts.len(), 1);
    }

    fn decision(id: &str, task_id: &str, at: u64) -> Decision {
        Decision {
            id: id.into(),
            task_id: task_id.into(),
            project_id: "p".into(),
            agent_id: "ag".into(),
            decision: format!("use {id}"),
            timestamp: at,
        }
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
