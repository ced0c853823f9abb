//! One task's place in the dependency graph, as upstream's `check_task_dependencies` reports
//! it: what it waits for, what waits for it, a cycle it cannot get out of, and the order in
//! which its chain should be finished.

use super::health::BOTTLENECK_DEPENDENTS;
use super::model::{Task, TaskStatus};
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::HashSet;

/// A task by id, name and status.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct TaskBrief {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its status.
    pub status: TaskStatus,
}

/// A task on either side of a dependency, with its holder.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct LinkedTask {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its status.
    pub status: TaskStatus,
    /// Who holds it.
    pub assigned_to: Option<String>,
}

/// How the task stands in the graph.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct DependencyAnalysis {
    /// At least [`BOTTLENECK_DEPENDENTS`] tasks wait for it.
    pub is_bottleneck: bool,
    /// A dependency is not done (or names no task).
    pub is_blocked: bool,
    /// How many tasks wait for it directly.
    pub blocking_count: usize,
    /// How many tasks its recommended completion order holds (its whole chain, itself
    /// included), upstream's measure of depth.
    pub dependency_depth: usize,
}

/// Upstream's fields of a dependency check.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct DependencyReport {
    /// The task.
    pub task: TaskBrief,
    /// Its dependencies that exist.
    pub depends_on: Vec<LinkedTask>,
    /// The tasks that depend on it directly.
    pub depended_by: Vec<LinkedTask>,
    /// Whether a cycle is reachable from it along dependencies (it can then never start).
    pub has_circular_dependency: bool,
    /// That cycle, its first task repeated at the end; `null` without one.
    pub cycle_path: Option<Vec<String>>,
    /// Its chain in an order that finishes every dependency before what needs it, ending
    /// with the task itself (ids that name no task are left out).
    pub recommended_completion_order: Vec<TaskBrief>,
    /// Bottleneck, blocked, counts.
    pub analysis: DependencyAnalysis,
}

fn brief(t: &Task) -> TaskBrief {
    TaskBrief {
        id: t.id.clone(),
        name: t.name.clone(),
        status: t.status,
    }
}

fn linked(t: &Task) -> LinkedTask {
    LinkedTask {
        id: t.id.clone(),
        name: t.name.clone(),
        status: t.status,
        assigned_to: t.assigned_to.clone(),
    }
}

/// The report for `task` among its project's `tasks`.
pub fn report(task: &Task, tasks: &[Task]) -> DependencyReport {
    let find = |id: &str| tasks.iter().find(|t| t.id == id);
    let depends_on: Vec<LinkedTask> = task
        .dependencies
        .iter()
        .filter_map(|d| find(d))
        .map(linked)
        .collect();
    let depended_by: Vec<LinkedTask> = tasks
        .iter()
        .filter(|t| t.dependencies.contains(&task.id))
        .map(linked)
        .collect();
    let cycle_path = cycle_from(task, tasks);
    let mut order = Vec::new();
    let mut seen = HashSet::new();
    completion_order(task, tasks, &mut seen, &mut order);
    let is_blocked = task
        .dependencies
        .iter()
        .any(|d| find(d).is_none_or(|t| t.status != TaskStatus::Done));
    DependencyReport {
        task: brief(task),
        analysis: DependencyAnalysis {
            is_bottleneck: depended_by.len() >= BOTTLENECK_DEPENDENTS,
            is_blocked,
            blocking_count: depended_by.len(),
            dependency_depth: order.len(),
        },
        has_circular_dependency: cycle_path.is_some(),
        cycle_path,
        recommended_completion_order: order,
        depends_on,
        depended_by,
    }
}

/// Depth-first along dependencies, dependencies before the task (post-order).
fn completion_order<'t>(
    task: &'t Task,
    tasks: &'t [Task],
    seen: &mut HashSet<&'t str>,
    order: &mut Vec<TaskBrief>,
) {
    if !seen.insert(task.id.as_str()) {
        return;
    }
    for d in &task.dependencies {
        if let Some(dep) = tasks.iter().find(|t| &t.id == d) {
            completion_order(dep, tasks, seen, order);
        }
    }
    order.push(brief(task));
}

/// The first cycle reachable from `task` along dependencies, closed (first id repeated).
fn cycle_from(task: &Task, tasks: &[Task]) -> Option<Vec<String>> {
    fn walk<'t>(
        task: &'t Task,
        tasks: &'t [Task],
        path: &mut Vec<&'t str>,
        done: &mut HashSet<&'t str>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|id| *id == task.id) {
            let mut cycle: Vec<String> = path[start..].iter().map(|s| s.to_string()).collect();
            cycle.push(task.id.clone());
            return Some(cycle);
        }
        if done.contains(task.id.as_str()) {
            return None;
        }
        path.push(&task.id);
        for d in &task.dependencies {
            if let Some(dep) = tasks.iter().find(|t| &t.id == d)
                && let Some(cycle) = walk(dep, tasks, path, done)
            {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(&task.id);
        None
    }
    walk(task, tasks, &mut Vec::new(), &mut HashSet::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::board::graph::tests::task;

    #[test]
    fn a_chain_is_ordered_and_its_dependents_counted() {
        let mut a = task("a", &[], 1.0);
        a.status = TaskStatus::Done;
        let tasks = vec![
            a,
            task("b", &["a"], 1.0),
            task("c", &["b"], 1.0),
            task("d", &["b"], 1.0),
            task("e", &["b", "a"], 1.0),
        ];
        let r = report(&tasks[1], &tasks);
        assert_eq!(r.task.id, "b");
        assert_eq!(r.depends_on.len(), 1);
        let waiting: Vec<&str> = r.depended_by.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(waiting, vec!["c", "d", "e"]);
        assert!(r.analysis.is_bottleneck && !r.analysis.is_blocked);
        assert_eq!(r.analysis.blocking_count, 3);
        assert!(!r.has_circular_dependency && r.cycle_path.is_none());
        let e = report(&tasks[4], &tasks);
        let order: Vec<&str> = e
            .recommended_completion_order
            .iter()
            .map(|t| t.id.as_str())
            .collect();
        assert_eq!(order, vec!["a", "b", "e"]);
        assert_eq!(e.analysis.dependency_depth, 3);
        assert!(e.analysis.is_blocked, "b is not done");
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["cycle_path"], serde_json::Value::Null);
    }

    #[test]
    fn a_reachable_cycle_is_named_and_a_missing_dependency_blocks() {
        let tasks = vec![
            task("x", &["y"], 1.0),
            task("y", &["z"], 1.0),
            task("z", &["y"], 1.0),
        ];
        let r = report(&tasks[0], &tasks);
        assert!(r.has_circular_dependency);
        assert_eq!(r.cycle_path.unwrap(), vec!["y", "z", "y"]);
        let lonely = task("l", &["nowhere"], 1.0);
        let r = report(&lonely, std::slice::from_ref(&lonely));
        assert!(r.analysis.is_blocked && r.depends_on.is_empty());
        assert_eq!(r.analysis.dependency_depth, 1);
    }
}
