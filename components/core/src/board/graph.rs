//! The dependency graph: validating new tasks, cycles, dependents and the critical path.

use super::model::{Millis, Priority, Task, TaskStatus};
use crate::api_error::ApiError;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap, HashSet};

/// A task as an agent or person submits it; dependencies name tasks by name or id.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTask {
    /// Unique within the project.
    pub name: String,
    /// What to do.
    #[serde(default)]
    pub description: String,
    /// Urgency (default medium).
    #[serde(default)]
    pub priority: Priority,
    /// Labels matched against agent skills.
    #[serde(default)]
    pub labels: Vec<String>,
    /// Names or ids of tasks that must be done first.
    #[serde(default)]
    pub dependencies: Vec<String>,
    /// Estimate in hours.
    #[serde(default)]
    pub estimated_hours: f64,
    /// Conditions for done.
    #[serde(default)]
    pub acceptance_criteria: Vec<String>,
}

/// Turns submitted tasks into records: resolves dependency references (by id or name,
/// among existing tasks and this batch) and rejects empty or duplicate names, unknown
/// references and cycles. All or nothing: an error leaves nothing to write.
pub fn plan_new_tasks(
    project_id: &str,
    existing: &[Task],
    new: &[NewTask],
    mut ids: impl FnMut() -> String,
    now: Millis,
) -> Result<Vec<Task>, ApiError> {
    let mut by_name: HashMap<String, String> = existing
        .iter()
        .map(|t| (t.name.clone(), t.id.clone()))
        .collect();
    let mut known_ids: HashSet<String> = existing.iter().map(|t| t.id.clone()).collect();
    let mut planned = Vec::with_capacity(new.len());
    for (i, n) in new.iter().enumerate() {
        let name = n.name.trim();
        if name.is_empty() {
            return Err(ApiError::invalid(format!(
                "tasks[{i}].name must not be empty"
            )));
        }
        if by_name.contains_key(name) {
            return Err(ApiError::invalid(format!(
                "task name {name:?} is used twice in this project; names must be unique"
            )));
        }
        if !n.estimated_hours.is_finite() || n.estimated_hours < 0.0 {
            return Err(ApiError::invalid(format!(
                "tasks[{i}].estimated_hours must be a non-negative number"
            )));
        }
        let id = ids();
        by_name.insert(name.to_string(), id.clone());
        known_ids.insert(id.clone());
        planned.push(Task {
            id,
            project_id: project_id.to_string(),
            name: name.to_string(),
            description: n.description.clone(),
            status: TaskStatus::Todo,
            priority: n.priority,
            labels: n.labels.clone(),
            dependencies: Vec::new(),
            estimated_hours: n.estimated_hours,
            acceptance_criteria: n.acceptance_criteria.clone(),
            assigned_to: None,
            progress: 0,
            lease: None,
            lease_counter: 0,
            recovery_note: None,
            created_at: now + i as u64,
            updated_at: now,
            started_at: None,
            completed_at: None,
            completed_by: None,
        });
    }
    for (task, n) in planned.iter_mut().zip(new) {
        let mut deps = Vec::new();
        for reference in &n.dependencies {
            let reference = reference.trim();
            let id = if known_ids.contains(reference) {
                reference.to_string()
            } else if let Some(id) = by_name.get(reference) {
                id.clone()
            } else {
                return Err(ApiError::invalid(format!(
                    "task {:?} depends on {reference:?}, which is neither a task name nor an id in this project",
                    task.name
                )));
            };
            if id == task.id {
                return Err(ApiError::invalid(format!(
                    "task {:?} depends on itself",
                    task.name
                )));
            }
            if !deps.contains(&id) {
                deps.push(id);
            }
        }
        task.dependencies = deps;
    }
    let mut all: Vec<Task> = existing.to_vec();
    all.extend(planned.iter().cloned());
    if let Some(cycle) = find_cycles(&all).into_iter().next() {
        let names: HashMap<&str, &str> = all
            .iter()
            .map(|t| (t.id.as_str(), t.name.as_str()))
            .collect();
        let path: Vec<&str> = cycle
            .iter()
            .map(|id| names.get(id.as_str()).copied().unwrap_or(id))
            .collect();
        return Err(ApiError::invalid(format!(
            "dependency cycle: {} -> {}",
            path.join(" -> "),
            path[0]
        )));
    }
    Ok(planned)
}

/// Every dependency cycle, each as the ids along it (without repeating the first).
pub fn find_cycles(tasks: &[Task]) -> Vec<Vec<String>> {
    let index: HashMap<&str, &Task> = tasks.iter().map(|t| (t.id.as_str(), t)).collect();
    // 0 = unvisited, 1 = on the current path, 2 = finished.
    let mut state: HashMap<&str, u8> = HashMap::new();
    let mut cycles = Vec::new();
    let mut ids: Vec<&str> = tasks.iter().map(|t| t.id.as_str()).collect();
    ids.sort();
    for start in ids {
        if state.get(start).copied().unwrap_or(0) != 0 {
            continue;
        }
        // Iterative DFS: (node, next dependency index).
        let mut stack: Vec<(&str, usize)> = vec![(start, 0)];
        state.insert(start, 1);
        while let Some((node, next)) = stack.pop() {
            let deps = index
                .get(node)
                .map(|t| t.dependencies.as_slice())
                .unwrap_or(&[]);
            if next < deps.len() {
                stack.push((node, next + 1));
                let dep = deps[next].as_str();
                if !index.contains_key(dep) {
                    continue;
                }
                match state.get(dep).copied().unwrap_or(0) {
                    0 => {
                        state.insert(dep, 1);
                        stack.push((dep, 0));
                    }
                    1 => {
                        let pos = stack.iter().position(|(n, _)| *n == dep).unwrap_or(0);
                        cycles.push(stack[pos..].iter().map(|(n, _)| n.to_string()).collect());
                    }
                    _ => {}
                }
            } else {
                state.insert(node, 2);
            }
        }
    }
    cycles
}

/// For each task id, the ids of the tasks that depend on it.
pub fn dependents(tasks: &[Task]) -> HashMap<String, Vec<String>> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for t in tasks {
        for d in &t.dependencies {
            out.entry(d.clone()).or_default().push(t.id.clone());
        }
    }
    out
}

/// A task's direct dependencies and its indirect (transitive, not direct) ones.
pub fn transitive_dependencies(tasks: &[Task], id: &str) -> (Vec<String>, Vec<String>) {
    let index: HashMap<&str, &Task> = tasks.iter().map(|t| (t.id.as_str(), t)).collect();
    let direct: Vec<String> = index
        .get(id)
        .map(|t| t.dependencies.clone())
        .unwrap_or_default();
    let mut seen: HashSet<String> = direct.iter().cloned().collect();
    let mut indirect = Vec::new();
    let mut queue: Vec<String> = direct.clone();
    while let Some(next) = queue.pop() {
        if let Some(t) = index.get(next.as_str()) {
            for d in &t.dependencies {
                if d != id && seen.insert(d.clone()) {
                    indirect.push(d.clone());
                    queue.push(d.clone());
                }
            }
        }
    }
    indirect.sort();
    (direct, indirect)
}

/// Hours a task weighs on the critical path: its estimate, with unestimated work counted
/// as one hour so it still orders.
pub fn weight_hours(t: &Task) -> f64 {
    if t.estimated_hours > 0.0 {
        t.estimated_hours
    } else {
        1.0
    }
}

/// Tasks in dependency order (dependencies first); tasks on a cycle are left out.
pub fn topological_order(tasks: &[Task]) -> Vec<String> {
    let ids: HashSet<&str> = tasks.iter().map(|t| t.id.as_str()).collect();
    let mut indegree: BTreeMap<&str, usize> = BTreeMap::new();
    for t in tasks {
        let n = t
            .dependencies
            .iter()
            .filter(|d| ids.contains(d.as_str()))
            .count();
        indegree.insert(t.id.as_str(), n);
    }
    let deps = dependents(tasks);
    let mut ready: Vec<&str> = indegree
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(id, _)| *id)
        .collect();
    ready.reverse();
    let mut order = Vec::new();
    while let Some(id) = ready.pop() {
        order.push(id.to_string());
        if let Some(children) = deps.get(id) {
            for c in children {
                if let Some(n) = indegree.get_mut(c.as_str()) {
                    *n -= 1;
                    if *n == 0 {
                        ready.push(c.as_str());
                    }
                }
            }
        }
    }
    order
}

/// For each task, the longest chain of estimated hours from it to the end of the graph
/// through its dependents, counting itself: how much later work waits on it.
pub fn critical_path_weight(tasks: &[Task]) -> HashMap<String, f64> {
    let index: HashMap<&str, &Task> = tasks.iter().map(|t| (t.id.as_str(), t)).collect();
    let deps = dependents(tasks);
    let mut weight: HashMap<String, f64> = HashMap::new();
    for id in topological_order(tasks).iter().rev() {
        let own = index
            .get(id.as_str())
            .map(|t| weight_hours(t))
            .unwrap_or(1.0);
        let tail = deps
            .get(id)
            .map(|cs| {
                cs.iter()
                    .filter_map(|c| weight.get(c))
                    .fold(0.0_f64, |a, b| a.max(*b))
            })
            .unwrap_or(0.0);
        weight.insert(id.clone(), own + tail);
    }
    weight
}

/// The longest dependency chain in estimated hours, and its task ids from first to last.
pub fn critical_path(tasks: &[Task]) -> (f64, Vec<String>) {
    let index: HashMap<&str, &Task> = tasks.iter().map(|t| (t.id.as_str(), t)).collect();
    let weight = critical_path_weight(tasks);
    let deps = dependents(tasks);
    let Some((start, total)) = weight
        .iter()
        .max_by(|a, b| a.1.total_cmp(b.1).then_with(|| b.0.cmp(a.0)))
        .map(|(id, w)| (id.clone(), *w))
    else {
        return (0.0, Vec::new());
    };
    let mut path = vec![start.clone()];
    let mut current = start;
    loop {
        let next = deps.get(&current).and_then(|cs| {
            cs.iter()
                .filter(|c| weight.contains_key(*c))
                .max_by(|a, b| weight[*a].total_cmp(&weight[*b]).then_with(|| b.cmp(a)))
                .cloned()
        });
        match next {
            Some(n) => {
                path.push(n.clone());
                current = n;
            }
            None => break,
        }
    }
    let hours = path
        .iter()
        .filter_map(|id| index.get(id.as_str()))
        .map(|t| t.estimated_hours)
        .sum::<f64>();
    let _ = total;
    (hours, path)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A task record for tests.
    pub fn task(id: &str, deps: &[&str], hours: f64) -> Task {
        Task {
            id: id.into(),
            project_id: "p".into(),
            name: id.into(),
            description: String::new(),
            status: TaskStatus::Todo,
            priority: Priority::Medium,
            labels: vec![],
            dependencies: deps.iter().map(|d| d.to_string()).collect(),
            estimated_hours: hours,
            acceptance_criteria: vec![],
            assigned_to: None,
            progress: 0,
            lease: None,
            lease_counter: 0,
            recovery_note: None,
            created_at: 0,
            updated_at: 0,
            started_at: None,
            completed_at: None,
            completed_by: None,
        }
    }

    fn new(name: &str, deps: &[&str]) -> NewTask {
        NewTask {
            name: name.into(),
            dependencies: deps.iter().map(|d| d.to_string()).collect(),
            estimated_hours: 2.0,
            ..Default::default()
        }
    }

    fn counter() -> impl FnMut() -> String {
        let mut n = 0;
        move || {
            n += 1;
            format!("t{n}")
        }
    }

    #[test]
    fn diamond_resolves_names_to_ids() {
        let tasks = plan_new_tasks(
            "p",
            &[],
            &[
                new("A", &[]),
                new("B", &["A"]),
                new("C", &["A"]),
                new("D", &["B", "C"]),
            ],
            counter(),
            1000,
        )
        .unwrap();
        assert_eq!(tasks.len(), 4);
        assert_eq!(tasks[3].dependencies, vec!["t2", "t3"]);
        assert!(
            tasks
                .iter()
                .all(|t| t.status == TaskStatus::Todo && t.project_id == "p")
        );
        assert!(
            tasks[0].created_at < tasks[3].created_at,
            "creation order kept"
        );
    }

    #[test]
    fn dependencies_on_existing_tasks_by_id_or_name() {
        let existing = vec![task("x1", &[], 1.0)];
        let t = plan_new_tasks(
            "p",
            &existing,
            &[new("B", &["x1"]), new("C", &["x1", "B"])],
            counter(),
            0,
        )
        .unwrap();
        assert_eq!(t[0].dependencies, vec!["x1"]);
        assert_eq!(t[1].dependencies, vec!["x1", "t1"]);
    }

    #[test]
    fn unknown_reference_is_named() {
        let e = plan_new_tasks("p", &[], &[new("A", &["Nope"])], counter(), 0).unwrap_err();
        assert_eq!(e.code, "invalid");
        assert!(
            e.message.contains("\"A\"") && e.message.contains("\"Nope\""),
            "{}",
            e.message
        );
    }

    #[test]
    fn cycle_is_rejected_with_its_path() {
        let e = plan_new_tasks(
            "p",
            &[],
            &[new("A", &["C"]), new("B", &["A"]), new("C", &["B"])],
            counter(),
            0,
        )
        .unwrap_err();
        assert!(e.message.starts_with("dependency cycle: "), "{}", e.message);
        for n in ["A", "B", "C"] {
            assert!(e.message.contains(n), "{}", e.message);
        }
        let self_dep = plan_new_tasks("p", &[], &[new("A", &["A"])], counter(), 0).unwrap_err();
        assert!(self_dep.message.contains("itself"));
    }

    #[test]
    fn duplicate_and_empty_names_are_rejected() {
        assert!(plan_new_tasks("p", &[], &[new("A", &[]), new("A", &[])], counter(), 0).is_err());
        assert!(
            plan_new_tasks("p", &[task("x", &[], 1.0)], &[new("x", &[])], counter(), 0).is_err()
        );
        assert!(plan_new_tasks("p", &[], &[new(" ", &[])], counter(), 0).is_err());
    }

    #[test]
    fn cycles_found_in_stored_graphs() {
        let tasks = vec![
            task("a", &["b"], 1.0),
            task("b", &["a"], 1.0),
            task("c", &[], 1.0),
        ];
        let cycles = find_cycles(&tasks);
        assert_eq!(cycles.len(), 1);
        assert_eq!(cycles[0].len(), 2);
        assert!(find_cycles(&[task("a", &[], 1.0), task("b", &["a"], 1.0)]).is_empty());
    }

    #[test]
    fn critical_path_of_the_diamond() {
        let tasks = vec![
            task("a", &[], 2.0),
            task("b", &["a"], 3.0),
            task("c", &["a"], 1.0),
            task("d", &["b", "c"], 4.0),
        ];
        let w = critical_path_weight(&tasks);
        assert_eq!(w["d"], 4.0);
        assert_eq!(w["b"], 7.0);
        assert_eq!(w["c"], 5.0);
        assert_eq!(w["a"], 9.0);
        let (hours, path) = critical_path(&tasks);
        assert_eq!(hours, 9.0);
        assert_eq!(path, vec!["a", "b", "d"]);
        let (direct, indirect) = transitive_dependencies(&tasks, "d");
        assert_eq!(direct, vec!["b", "c"]);
        assert_eq!(indirect, vec!["a"]);
        assert_eq!(dependents(&tasks)["a"], vec!["b", "c"]);
    }
}
