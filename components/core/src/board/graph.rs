//! The dependency graph: validating new tasks, cycles, dependents and the critical path.
//!
//! Arrows in cycle messages read "depends on": `A -> B` means A waits for B.

use super::model::{Millis, Priority, Task, TaskStatus};
use crate::api_error::ApiError;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, de::Error as _};
use std::collections::{BTreeMap, HashMap, HashSet};

/// A task as an agent or person submits it; dependencies name tasks by name or id.
/// Unknown fields are refused so a misspelt `dependencies` cannot silently drop an edge;
/// `null` counts as absent and the priority is read in any case. Its schema states the
/// stricter form clients should send: a name is required and not blank.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("required" = ["name"]))]
pub struct NewTask {
    /// Unique within the project.
    #[serde(default, deserialize_with = "null_as_default")]
    #[schemars(schema_with = "not_blank")]
    pub name: String,
    /// What to do.
    #[serde(default, deserialize_with = "null_as_default")]
    #[schemars(with = "Option<String>")]
    pub description: String,
    /// Urgency: low, medium (when absent), high or urgent; read in any case.
    #[serde(default, deserialize_with = "lenient_priority")]
    #[schemars(with = "Option<Priority>")]
    pub priority: Priority,
    /// Labels matched against agent skills.
    #[serde(default, deserialize_with = "null_as_default")]
    #[schemars(with = "Option<Vec<String>>")]
    pub labels: Vec<String>,
    /// Names or ids of tasks that must be done first.
    #[serde(default, deserialize_with = "null_as_default")]
    #[schemars(with = "Option<Vec<String>>")]
    pub dependencies: Vec<String>,
    /// Estimate in hours (0 when unknown).
    #[serde(default, deserialize_with = "null_as_default")]
    #[schemars(with = "Option<f64>", extend("minimum" = 0))]
    pub estimated_hours: f64,
    /// Conditions for done.
    #[serde(default, deserialize_with = "null_as_default")]
    #[schemars(with = "Option<Vec<String>>")]
    pub acceptance_criteria: Vec<String>,
}

fn not_blank(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    crate::schema::not_blank()
}

fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

fn lenient_priority<'de, D: Deserializer<'de>>(d: D) -> Result<Priority, D::Error> {
    let Some(text) = Option::<String>::deserialize(d)? else {
        return Ok(Priority::default());
    };
    parse_priority(&text).ok_or_else(|| {
        D::Error::custom(format!(
            "unknown priority {text:?}; expected low, medium, high or urgent"
        ))
    })
}

/// Reads a priority name in any case (`High`, `URGENT`), as people type them.
pub fn parse_priority(text: &str) -> Option<Priority> {
    match text.trim().to_ascii_lowercase().as_str() {
        "low" => Some(Priority::Low),
        "medium" => Some(Priority::Medium),
        "high" => Some(Priority::High),
        "urgent" => Some(Priority::Urgent),
        _ => None,
    }
}

/// Turns submitted tasks into records: resolves dependency references (by id, then by
/// name, among the project's existing tasks and this batch) and rejects empty or
/// duplicate names, negative estimates, unknown references and cycles with `invalid`
/// (400) and a message naming the tasks. All or nothing: an error leaves nothing to write.
/// New tasks get `created_at = now + position` so the batch order is their age order.
pub fn plan_new_tasks(
    project_id: &str,
    existing: &[Task],
    new: &[NewTask],
    mut ids: impl FnMut() -> String,
    now: Millis,
) -> Result<Vec<Task>, ApiError> {
    let taken: HashSet<&str> = existing.iter().map(|t| t.id.as_str()).collect();
    let existing: Vec<&Task> = existing
        .iter()
        .filter(|t| t.project_id == project_id)
        .collect();
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
        if id.is_empty() || taken.contains(id.as_str()) || known_ids.contains(&id) {
            return Err(ApiError::internal(format!(
                "generated task id {id:?} is empty or already in use"
            )));
        }
        by_name.insert(name.to_string(), id.clone());
        known_ids.insert(id.clone());
        planned.push(Task {
            id,
            project_id: project_id.to_string(),
            project_name: String::new(),
            name: name.to_string(),
            description: n.description.clone(),
            status: TaskStatus::Todo,
            priority: n.priority,
            labels: trimmed(&n.labels),
            dependencies: Vec::new(),
            estimated_hours: n.estimated_hours,
            acceptance_criteria: trimmed(&n.acceptance_criteria),
            assigned_to: None,
            progress: 0,
            lease: None,
            lease_counter: 0,
            recovery_note: None,
            lapsed_lease: None,
            created_at: now + i as u64,
            updated_at: now,
            started_at: None,
            completed_at: None,
            completed_by: None,
            deps_remaining: 0,
            dependents: Vec::new(),
            critical_weight: 0.0,
        });
    }
    let mut unknown = Vec::new();
    for (task, n) in planned.iter_mut().zip(new) {
        let mut deps = Vec::new();
        for reference in &n.dependencies {
            let reference = reference.trim();
            let id = if known_ids.contains(reference) {
                reference.to_string()
            } else if let Some(id) = by_name.get(reference) {
                id.clone()
            } else {
                unknown.push(format!(
                    "task {:?} depends on {reference:?}, which is neither a task name nor an id in this project",
                    task.name
                ));
                continue;
            };
            if !deps.contains(&id) {
                deps.push(id);
            }
        }
        task.dependencies = deps;
    }
    if !unknown.is_empty() {
        return Err(ApiError::invalid(unknown.join("; ")));
    }
    let mut all: Vec<Task> = existing.into_iter().cloned().collect();
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

/// Items trimmed, empty ones dropped: stray whitespace must not defeat skill matching.
fn trimmed(items: &[String]) -> Vec<String> {
    items
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Every dependency cycle found by a depth-first walk, each as the ids along it (each
/// depending on the next, the last on the first, the first not repeated), so a corrupted
/// board can be reported by name.
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

/// For each task id, the ids of the tasks that depend on it (who waits for this work);
/// tasks nobody depends on have no entry.
pub fn dependents(tasks: &[Task]) -> HashMap<String, Vec<String>> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for t in tasks {
        for d in &t.dependencies {
            out.entry(d.clone()).or_default().push(t.id.clone());
        }
    }
    out
}

/// A task's direct dependencies (as listed) and its indirect ones (reachable through them,
/// not direct, sorted), so context can tell input from background.
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
/// through its dependents, counting itself (unestimated tasks as one hour): how much later
/// work waits on it. Tasks on or behind a cycle cannot be ordered and are left out.
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

/// The longest dependency chain, first task first, and its hours counted like
/// [`critical_path_weight`] (unestimated tasks as one hour): the shortest time the work can
/// take with unlimited agents. Ties go to the lower id.
pub fn critical_path(tasks: &[Task]) -> (f64, Vec<String>) {
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
    while let Some(next) = deps.get(&current).and_then(|cs| {
        cs.iter()
            .filter(|c| weight.contains_key(*c))
            .max_by(|a, b| weight[*a].total_cmp(&weight[*b]).then_with(|| b.cmp(a)))
            .cloned()
    }) {
        path.push(next.clone());
        current = next;
    }
    (total, path)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::board::model::Agent;

    /// An agent record for tests, with the given skills.
    pub fn skilled(id: &str, skills: &[&str]) -> Agent {
        Agent {
            id: id.into(),
            name: id.into(),
            role: String::new(),
            skills: skills.iter().map(|s| s.to_string()).collect(),
            project_id: None,
            status: Default::default(),
            current_task_id: None,
            completed_tasks_count: 0,
            assigned_tasks_count: 0,
            registered_at: 0,
            last_seen: 0,
        }
    }

    /// An agent record for tests, without skills.
    pub fn agent(id: &str) -> Agent {
        skilled(id, &[])
    }

    /// A task record for tests.
    pub fn task(id: &str, deps: &[&str], hours: f64) -> Task {
        Task {
            id: id.into(),
            project_id: "p".into(),
            project_name: "P".into(),
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
            lapsed_lease: None,
            created_at: 0,
            updated_at: 0,
            started_at: None,
            completed_at: None,
            completed_by: None,
            deps_remaining: 0,
            dependents: Vec::new(),
            critical_weight: 0.0,
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
        assert_eq!(e.message, "dependency cycle: A -> C -> B -> A");
        let self_dep = plan_new_tasks("p", &[], &[new("A", &["A"])], counter(), 0).unwrap_err();
        assert_eq!(self_dep.message, "dependency cycle: A -> A");
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

    fn parse(v: serde_json::Value) -> Result<NewTask, serde_json::Error> {
        serde_json::from_value(v)
    }

    #[test]
    fn new_task_fields_default_and_accept_null() {
        let t = parse(serde_json::json!({"name": "A"})).unwrap();
        assert_eq!(t.priority, Priority::Medium);
        assert!(t.labels.is_empty() && t.dependencies.is_empty());
        assert_eq!(t.estimated_hours, 0.0);
        let t = parse(serde_json::json!({
            "name": "B", "description": null, "labels": null, "dependencies": null,
            "estimated_hours": null, "acceptance_criteria": null, "priority": null
        }))
        .unwrap();
        assert_eq!((t.description.as_str(), t.priority), ("", Priority::Medium));
    }

    #[test]
    fn new_task_priority_in_any_case_and_unknown_refused() {
        for (text, p) in [
            ("low", Priority::Low),
            ("Medium", Priority::Medium),
            ("HIGH", Priority::High),
            ("urgent", Priority::Urgent),
        ] {
            let t = parse(serde_json::json!({"name": "A", "priority": text})).unwrap();
            assert_eq!(t.priority, p);
        }
        let e = parse(serde_json::json!({"name": "A", "priority": "asap"}))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("asap") && e.contains("low, medium, high or urgent"),
            "{e}"
        );
    }

    #[test]
    fn new_task_refuses_misspelt_fields() {
        assert!(parse(serde_json::json!({"name": "A", "dependancies": ["B"]})).is_err());
    }

    #[test]
    fn plan_keeps_fields_and_batch_order_as_age() {
        let mut n = new("A", &[]);
        n.priority = Priority::Urgent;
        n.labels = vec![" rust ".into(), "".into()];
        n.acceptance_criteria = vec!["tests pass".into()];
        n.description = "do it".into();
        let t = plan_new_tasks("p", &[], &[n, new("B", &[])], counter(), 100).unwrap();
        assert_eq!(t[0].priority, Priority::Urgent);
        assert_eq!(t[0].labels, vec!["rust"]);
        assert_eq!(t[0].acceptance_criteria, vec!["tests pass"]);
        assert_eq!(t[0].description, "do it");
        assert_eq!(t[0].estimated_hours, 2.0);
        assert_eq!((t[0].created_at, t[1].created_at), (100, 101));
        assert!(t.iter().all(|t| t.lease.is_none() && t.lease_counter == 0));
    }

    #[test]
    fn references_resolve_by_id_before_name_and_are_deduplicated() {
        let mut named = task("x1", &[], 1.0);
        named.name = "Schema".into();
        let t = plan_new_tasks(
            "p",
            &[named],
            &[new("API", &["x1", " Schema ", "x1"])],
            counter(),
            0,
        )
        .unwrap();
        assert_eq!(t[0].dependencies, vec!["x1"]);
    }

    #[test]
    fn tasks_of_other_projects_are_neither_references_nor_name_clashes() {
        let mut other = task("o1", &[], 1.0);
        other.project_id = "q".into();
        let e = plan_new_tasks(
            "p",
            std::slice::from_ref(&other),
            &[new("A", &["o1"])],
            counter(),
            0,
        )
        .unwrap_err();
        assert!(e.message.contains("\"o1\""), "{}", e.message);
        assert!(plan_new_tasks("p", &[other], &[new("o1", &[])], counter(), 0).is_ok());
    }

    #[test]
    fn every_unknown_reference_is_named_at_once() {
        let e = plan_new_tasks(
            "p",
            &[],
            &[new("A", &["ghost"]), new("B", &["A", "phantom"])],
            counter(),
            0,
        )
        .unwrap_err();
        assert!(
            e.message.contains("\"A\" depends on \"ghost\""),
            "{}",
            e.message
        );
        assert!(
            e.message.contains("\"B\" depends on \"phantom\""),
            "{}",
            e.message
        );
    }

    #[test]
    fn a_cycle_through_existing_tasks_is_refused() {
        // Existing tasks cannot depend on new ones, but a new task on itself via a chain can.
        let existing = vec![task("base", &[], 1.0)];
        let e = plan_new_tasks(
            "p",
            &existing,
            &[new("x", &["z"]), new("y", &["x"]), new("z", &["y", "base"])],
            counter(),
            0,
        )
        .unwrap_err();
        assert_eq!(e.code, "invalid");
        assert!(e.message.starts_with("dependency cycle: "), "{}", e.message);
        assert!(!e.message.contains("base"), "{}", e.message);
    }

    #[test]
    fn negative_or_infinite_estimates_are_refused() {
        for bad in [-1.0, f64::INFINITY, f64::NAN] {
            let mut n = new("A", &[]);
            n.estimated_hours = bad;
            assert!(plan_new_tasks("p", &[], &[n], counter(), 0).is_err());
        }
    }

    #[test]
    fn reused_generated_ids_are_an_internal_error() {
        let e = plan_new_tasks("p", &[task("t1", &[], 1.0)], &[new("A", &[])], counter(), 0)
            .unwrap_err();
        assert_eq!((e.status, e.code), (500, "internal"));
        let e = plan_new_tasks(
            "p",
            &[],
            &[new("A", &[]), new("B", &[])],
            || "same".into(),
            0,
        )
        .unwrap_err();
        assert_eq!(e.code, "internal");
    }

    #[test]
    fn cycles_are_listed_along_the_dependency_direction() {
        let tasks = vec![
            task("a", &["b"], 1.0),
            task("b", &["c"], 1.0),
            task("c", &["a"], 1.0),
            task("d", &["a"], 1.0),
            task("s", &["s"], 1.0),
        ];
        let cycles = find_cycles(&tasks);
        assert_eq!(
            cycles,
            vec![
                vec!["a".to_string(), "b".into(), "c".into()],
                vec!["s".to_string()]
            ]
        );
    }

    #[test]
    fn dependency_queries_tolerate_cycles_and_unknown_ids() {
        let tasks = vec![task("a", &["b"], 1.0), task("b", &["a"], 1.0)];
        assert_eq!(
            transitive_dependencies(&tasks, "a"),
            (vec!["b".to_string()], vec![])
        );
        assert_eq!(transitive_dependencies(&tasks, "nope"), (vec![], vec![]));
        assert!(critical_path_weight(&tasks).is_empty());
        assert_eq!(critical_path(&tasks), (0.0, vec![]));
    }

    #[test]
    fn unestimated_tasks_weigh_one_hour() {
        let tasks = vec![task("a", &[], 0.0), task("b", &["a"], 0.0)];
        let w = critical_path_weight(&tasks);
        assert_eq!((w["a"], w["b"]), (2.0, 1.0));
        assert_eq!(critical_path(&tasks), (2.0, vec!["a".into(), "b".into()]));
    }

    #[test]
    fn longer_transitive_chains_split_direct_and_indirect() {
        let mut tasks = vec![
            task("a", &[], 1.0),
            task("b", &["a"], 1.0),
            task("c", &["a"], 1.0),
            task("d", &["b", "c"], 1.0),
        ];
        tasks.push(task("e", &["d"], 1.0));
        let (direct, indirect) = transitive_dependencies(&tasks, "e");
        assert_eq!(direct, vec!["d"]);
        assert_eq!(indirect, vec!["a", "b", "c"]);
        assert!(!dependents(&tasks).contains_key("e"));
    }
}
