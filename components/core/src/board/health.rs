//! Project status, board health and the optimal agent count: the numbers people and
//! agents use to see whether work flows and how many agents it can keep busy.

use super::graph::{critical_path, dependents, find_cycles, topological_order, weight_hours};
use super::model::{Agent, AgentStatus, Millis, Task, TaskStatus};
use super::scheduler::ready_tasks;
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::HashMap;

const HOUR_MS: u64 = 3_600_000;

/// Completion and pace of a project.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ProjectStatus {
    /// All tasks.
    pub total: usize,
    /// Counts by status.
    pub todo: usize,
    /// In progress.
    pub in_progress: usize,
    /// Blocked.
    pub blocked: usize,
    /// Done.
    pub done: usize,
    /// Done / total, in percent (0 for an empty project).
    pub completion_percentage: f64,
    /// Tasks completed per hour over the last 24 hours (over the project's age when it is
    /// younger, at least a minute, so a new project's pace is not diluted).
    pub velocity_per_hour: f64,
    /// Tasks completed per day over the last 24 hours.
    pub velocity_per_day: f64,
    /// Hours until done, as the forecast projects it (the larger of the pace's and the
    /// critical path's bound); none for a project without tasks.
    pub eta_hours: Option<f64>,
    /// Blocked task ids.
    pub blocked_task_ids: Vec<String>,
    /// In-progress tasks whose lease has expired (the next claim reclaims them).
    pub stale_lease_task_ids: Vec<String>,
}

/// Status of a project's tasks at `now`: counts, completion, velocity and ETA, from the
/// task records alone.
pub fn project_status(tasks: &[Task], now: Millis) -> ProjectStatus {
    let count = |s: TaskStatus| tasks.iter().filter(|t| t.status == s).count();
    let done = count(TaskStatus::Done);
    let total = tasks.len();
    let recent = tasks
        .iter()
        .filter(|t| {
            t.status == TaskStatus::Done
                && t.completed_at
                    .is_some_and(|c| now.saturating_sub(c) <= 24 * HOUR_MS)
        })
        .count();
    // Over a window of at most 24 h, no longer than the project has been running.
    let first = tasks.iter().map(|t| t.created_at).min().unwrap_or(now);
    let window_h =
        ((now.saturating_sub(first)).min(24 * HOUR_MS) as f64 / HOUR_MS as f64).max(1.0 / 60.0);
    let velocity = if recent == 0 {
        0.0
    } else {
        recent as f64 / window_h
    };
    let remaining = total - done;
    ProjectStatus {
        total,
        todo: count(TaskStatus::Todo),
        in_progress: count(TaskStatus::InProgress),
        blocked: count(TaskStatus::Blocked),
        done,
        completion_percentage: if total == 0 {
            0.0
        } else {
            (done as f64 * 1000.0 / total as f64).round() / 10.0
        },
        velocity_per_hour: (velocity * 100.0).round() / 100.0,
        velocity_per_day: (velocity * 24.0 * 100.0).round() / 100.0,
        eta_hours: super::projection::projection_of(
            tasks.is_empty(),
            remaining,
            (velocity * 100.0).round() / 100.0,
            optimal_agent_count(tasks).critical_path_hours,
        )
        .hours,
        blocked_task_ids: tasks
            .iter()
            .filter(|t| t.status == TaskStatus::Blocked)
            .map(|t| t.id.clone())
            .collect(),
        stale_lease_task_ids: stale(tasks, now),
    }
}

/// In-progress tasks nobody holds any more (lease lapsed or missing).
fn stale(tasks: &[Task], now: Millis) -> Vec<String> {
    tasks
        .iter()
        .filter(|t| {
            t.status == TaskStatus::InProgress
                && t.lease.as_ref().is_none_or(|l| l.expires_at <= now)
        })
        .map(|t| t.id.clone())
        .collect()
}

/// One problem found on the board.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct HealthIssue {
    /// cycle, bottleneck, long_chain, stale_lease, skill_mismatch, idle_agent,
    /// overloaded_agent, gridlock.
    pub kind: String,
    /// The same as `kind`, by upstream's name.
    #[serde(rename = "type")]
    pub issue_type: String,
    /// low, medium, high, critical.
    pub severity: String,
    /// What is wrong, for people.
    pub message: String,
    /// Tasks concerned.
    pub task_ids: Vec<String>,
    /// Agents concerned (idle or overloaded agents).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub agent_ids: Vec<String>,
}

/// The board's health: issues and a 0-100 score (100 minus 30 per critical, 20 per high,
/// 10 per medium and 5 per low issue, never below 0); "healthy" needs a score of 80 and no
/// high or critical issue.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct BoardHealth {
    /// 100 = nothing wrong.
    pub score: u8,
    /// healthy (>= 80 and nothing high or critical), warning (>= 50), critical.
    pub status: String,
    /// Everything found.
    pub issues: Vec<HealthIssue>,
}

/// Chains longer than this many tasks are reported.
pub const LONG_CHAIN: usize = 5;
/// Tasks with at least this many dependents are bottlenecks.
pub const BOTTLENECK_DEPENDENTS: usize = 3;

fn issue(kind: &str, severity: &str, message: String, task_ids: Vec<String>) -> HealthIssue {
    HealthIssue {
        kind: kind.into(),
        issue_type: kind.into(),
        severity: severity.into(),
        message,
        task_ids,
        agent_ids: Vec::new(),
    }
}

/// Longest chain (in tasks) ending at each task; tasks on cycles are left out.
fn chain_lengths(tasks: &[Task]) -> HashMap<String, usize> {
    let index: HashMap<&str, &Task> = tasks.iter().map(|t| (t.id.as_str(), t)).collect();
    let mut len: HashMap<String, usize> = HashMap::new();
    for id in topological_order(tasks) {
        let l = index[id.as_str()]
            .dependencies
            .iter()
            .filter_map(|d| len.get(d))
            .max()
            .copied()
            .unwrap_or(0)
            + 1;
        len.insert(id, l);
    }
    len
}

/// Inspects the board for the problems that stall agents: cycles (critical), bottlenecks
/// (unfinished tasks with >= 3 dependents, medium), chains of more than 5 unfinished tasks
/// (low), stale leases (medium), ready tasks no agent has the skills for (low), idle agents
/// while tasks are ready (low), agents holding several live leases (high), blocked tasks
/// (high) and gridlock (todo tasks, none ready, none in progress; critical).
pub fn board_health(tasks: &[Task], agents: &[Agent], now: Millis) -> BoardHealth {
    let name = |id: &str| {
        tasks
            .iter()
            .find(|t| t.id == id)
            .map(|t| t.name.clone())
            .unwrap_or_else(|| id.to_string())
    };
    let mut issues = Vec::new();
    for cycle in find_cycles(tasks) {
        let names: Vec<String> = cycle.iter().map(|id| name(id)).collect();
        issues.push(issue(
            "cycle",
            "critical",
            format!("dependency cycle: {}", names.join(" -> ")),
            cycle,
        ));
    }
    let deps = dependents(tasks);
    for t in tasks.iter().filter(|t| t.status != TaskStatus::Done) {
        let n = deps.get(&t.id).map(Vec::len).unwrap_or(0);
        if n >= BOTTLENECK_DEPENDENTS {
            issues.push(issue(
                "bottleneck",
                "medium",
                format!("{} blocks {n} tasks", t.name),
                vec![t.id.clone()],
            ));
        }
    }
    let unfinished: Vec<Task> = tasks
        .iter()
        .filter(|t| t.status != TaskStatus::Done)
        .cloned()
        .collect();
    let unfinished_deps = dependents(&unfinished);
    for (id, l) in chain_lengths(&unfinished) {
        if l > LONG_CHAIN && !unfinished_deps.contains_key(&id) {
            issues.push(issue(
                "long_chain",
                "low",
                format!("a chain of {l} dependent tasks ends at {}", name(&id)),
                vec![id],
            ));
        }
    }
    let stale_ids = stale(tasks, now);
    if !stale_ids.is_empty() {
        issues.push(issue(
            "stale_lease",
            "medium",
            format!(
                "{} task(s) hold expired leases; the next claim returns them to the pool",
                stale_ids.len()
            ),
            stale_ids,
        ));
    }
    let ready = ready_tasks(tasks, now);
    if !agents.is_empty() {
        let unmatched: Vec<String> = ready
            .iter()
            .filter(|t| !t.labels.is_empty())
            .filter(|t| {
                !agents.iter().any(|a| {
                    t.labels
                        .iter()
                        .any(|l| a.skills.iter().any(|s| s.eq_ignore_ascii_case(l)))
                })
            })
            .map(|t| t.id.clone())
            .collect();
        if !unmatched.is_empty() {
            issues.push(issue(
                "skill_mismatch",
                "low",
                format!("{} ready task(s) match no agent's skills", unmatched.len()),
                unmatched,
            ));
        }
        let holding = |agent: &str| {
            tasks.iter().any(|t| {
                t.status == TaskStatus::InProgress
                    && t.lease
                        .as_ref()
                        .is_some_and(|l| l.agent_id == agent && l.expires_at > now)
            })
        };
        let idle: Vec<&Agent> = agents
            .iter()
            .filter(|a| a.status == AgentStatus::Available && !holding(&a.id))
            .collect();
        if !idle.is_empty() && !ready.is_empty() {
            let names: Vec<&str> = idle.iter().map(|a| a.name.as_str()).collect();
            let mut found = issue(
                "idle_agent",
                "low",
                format!(
                    "idle while {} task(s) are ready: {}",
                    ready.len(),
                    names.join(", ")
                ),
                ready.iter().map(|t| t.id.clone()).collect(),
            );
            found.agent_ids = idle.iter().map(|a| a.id.clone()).collect();
            issues.push(found);
        }
    }
    let mut held: HashMap<&str, Vec<String>> = HashMap::new();
    for t in tasks.iter().filter(|t| t.status == TaskStatus::InProgress) {
        if let Some(l) = t.lease.as_ref().filter(|l| l.expires_at > now) {
            held.entry(l.agent_id.as_str())
                .or_default()
                .push(t.id.clone());
        }
    }
    for (agent, ids) in held.into_iter().filter(|(_, ids)| ids.len() > 1) {
        let mut found = issue(
            "overloaded_agent",
            "high",
            format!("{agent} holds {} tasks at once", ids.len()),
            ids,
        );
        found.agent_ids = vec![agent.to_string()];
        issues.push(found);
    }
    let blocked: Vec<&Task> = tasks
        .iter()
        .filter(|t| t.status == TaskStatus::Blocked)
        .collect();
    if !blocked.is_empty() {
        let names: Vec<&str> = blocked.iter().map(|t| t.name.as_str()).collect();
        issues.push(issue(
            "blocked_task",
            "high",
            format!(
                "{} task(s) blocked, waiting for a decision: {}",
                blocked.len(),
                names.join(", ")
            ),
            blocked.iter().map(|t| t.id.clone()).collect(),
        ));
    }
    let todo = tasks.iter().any(|t| t.status == TaskStatus::Todo);
    let working = tasks.iter().any(|t| t.status == TaskStatus::InProgress);
    if todo && ready.is_empty() && !working {
        let blocked: Vec<String> = tasks
            .iter()
            .filter(|t| t.status == TaskStatus::Blocked)
            .map(|t| t.name.clone())
            .collect();
        let cause = if !blocked.is_empty() {
            format!("resolve the blockers of {} to continue", blocked.join(", "))
        } else if !find_cycles(tasks).is_empty() {
            "a dependency cycle holds them".to_string()
        } else {
            "their dependencies are missing".to_string()
        };
        issues.push(issue(
            "gridlock",
            "critical",
            format!("tasks are waiting but none is ready and none is in progress: {cause}"),
            tasks
                .iter()
                .filter(|t| t.status == TaskStatus::Todo)
                .map(|t| t.id.clone())
                .collect(),
        ));
    }
    issues.sort_by(|a, b| {
        a.kind
            .cmp(&b.kind)
            .then_with(|| a.task_ids.cmp(&b.task_ids))
    });
    let penalty: u32 = issues
        .iter()
        .map(|i| match i.severity.as_str() {
            "critical" => 30,
            "high" => 20,
            "medium" => 10,
            _ => 5,
        })
        .sum();
    let score = 100u32.saturating_sub(penalty) as u8;
    // A board with a high or critical issue (a blocked task, say) is never "healthy",
    // whatever its score.
    let serious = issues
        .iter()
        .any(|i| matches!(i.severity.as_str(), "critical" | "high"));
    BoardHealth {
        score,
        status: if score >= 80 && !serious {
            "healthy"
        } else if score >= 50 {
            "warning"
        } else {
            "critical"
        }
        .into(),
        issues,
    }
}

/// How many agents the remaining work can use, by the critical-path method.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct AgentCountAnalysis {
    /// Agents worth running now (peak parallelism, at least 1 while work remains).
    pub optimal_agents: usize,
    /// Hours along the longest dependency chain of remaining work.
    pub critical_path_hours: f64,
    /// Tasks on that chain.
    pub critical_path: Vec<String>,
    /// Hours of all remaining work.
    pub total_work_hours: f64,
    /// Most tasks that can run at once with unlimited agents.
    pub peak_parallelism: usize,
    /// Time saved by running in parallel versus one agent, in percent.
    pub efficiency_gain_percent: f64,
    /// Remaining tasks.
    pub remaining_tasks: usize,
}

/// The agent-count analysis by upstream's names.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct AgentCountSummary {
    /// Agents worth running now.
    pub optimal_agents: usize,
    /// Hours along the longest dependency chain of remaining work.
    pub critical_path_hours: f64,
    /// Most tasks that can run at once with unlimited agents.
    pub max_parallelism: usize,
    /// Hours until the remaining work is done with `optimal_agents` agents: the earliest-start
    /// schedule never runs more tasks at once than that, so it ends with its critical path.
    pub estimated_completion_hours: f64,
    /// Hours the remaining work takes one agent alone (all of it, one task after another).
    pub single_agent_hours: f64,
    /// Time saved by running in parallel versus one agent, in percent.
    pub efficiency_gain_percent: f64,
    /// The tasks analysed: those not done yet.
    pub total_tasks: usize,
}

impl From<&AgentCountAnalysis> for AgentCountSummary {
    fn from(a: &AgentCountAnalysis) -> Self {
        Self {
            optimal_agents: a.optimal_agents,
            critical_path_hours: a.critical_path_hours,
            max_parallelism: a.peak_parallelism,
            estimated_completion_hours: a.critical_path_hours,
            single_agent_hours: a.total_work_hours,
            efficiency_gain_percent: a.efficiency_gain_percent,
            total_tasks: a.remaining_tasks,
        }
    }
}

/// Schedules remaining work at earliest start with unlimited agents and reads off the
/// critical path, total work and peak parallelism.
pub fn optimal_agent_count(tasks: &[Task]) -> AgentCountAnalysis {
    let remaining: Vec<Task> = tasks
        .iter()
        .filter(|t| t.status != TaskStatus::Done)
        .cloned()
        .map(|mut t| {
            t.dependencies.retain(|d| {
                tasks
                    .iter()
                    .any(|o| &o.id == d && o.status != TaskStatus::Done)
            });
            t
        })
        .collect();
    let index: HashMap<&str, &Task> = remaining.iter().map(|t| (t.id.as_str(), t)).collect();
    let mut finish: HashMap<String, f64> = HashMap::new();
    let mut spans: Vec<(f64, f64)> = Vec::new();
    for id in topological_order(&remaining) {
        let t = index[id.as_str()];
        let start = t
            .dependencies
            .iter()
            .filter_map(|d| finish.get(d))
            .fold(0.0_f64, |a, b| a.max(*b));
        let end = start + weight_hours(t);
        spans.push((start, end));
        finish.insert(id, end);
    }
    let mut events: Vec<(f64, i32)> = spans
        .iter()
        .flat_map(|(s, e)| [(*s, 1), (*e, -1)])
        .collect();
    events.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let (mut running, mut peak) = (0i32, 0i32);
    for (_, delta) in events {
        running += delta;
        peak = peak.max(running);
    }
    let total: f64 = remaining.iter().map(weight_hours).sum();
    let (_, path) = critical_path(&remaining);
    let cp_hours: f64 = path
        .iter()
        .filter_map(|id| index.get(id.as_str()))
        .map(|t| weight_hours(t))
        .sum();
    AgentCountAnalysis {
        optimal_agents: if remaining.is_empty() {
            0
        } else {
            (peak as usize).max(1)
        },
        critical_path_hours: cp_hours,
        critical_path: path,
        total_work_hours: total,
        peak_parallelism: peak as usize,
        efficiency_gain_percent: if total > 0.0 {
            ((1.0 - cp_hours / total) * 1000.0).round() / 10.0
        } else {
            0.0
        },
        remaining_tasks: remaining.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::board::graph::tests::task;
    use crate::board::lease;

    fn diamond() -> Vec<Task> {
        vec![
            task("a", &[], 2.0),
            task("b", &["a"], 3.0),
            task("c", &["a"], 1.0),
            task("d", &["b", "c"], 4.0),
        ]
    }

    #[test]
    fn status_counts_completion_velocity_eta() {
        let mut tasks = diamond();
        let hour = HOUR_MS;
        for t in tasks.iter_mut() {
            t.created_at = 0;
        }
        tasks[0].status = TaskStatus::Done;
        tasks[0].completed_at = Some(hour);
        tasks[2].status = TaskStatus::Blocked;
        let s = project_status(&tasks, 2 * hour);
        assert_eq!((s.total, s.done, s.todo, s.blocked), (4, 1, 2, 1));
        assert_eq!(s.completion_percentage, 25.0);
        assert_eq!(s.velocity_per_hour, 0.5);
        // The pace says 6 h for the 3 tasks left; the chain of their estimates says 7 h,
        // and the later bound is the projection.
        assert_eq!(s.eta_hours, Some(7.0));
        assert_eq!(s.blocked_task_ids, vec!["c"]);
        assert_eq!(project_status(&[], 0).completion_percentage, 0.0);
        // Without a pace yet, the critical path alone is the projection.
        assert_eq!(project_status(&diamond(), 10).eta_hours, Some(9.0));
        assert_eq!(project_status(&[], 10).eta_hours, None);
    }

    #[test]
    fn optimal_count_for_the_diamond() {
        let r = optimal_agent_count(&diamond());
        let s = AgentCountSummary::from(&r);
        assert_eq!((s.max_parallelism, s.total_tasks), (2, 4));
        assert_eq!(
            (s.estimated_completion_hours, s.single_agent_hours),
            (9.0, 10.0)
        );
        assert_eq!(r.peak_parallelism, 2);
        assert_eq!(r.optimal_agents, 2);
        assert_eq!(r.critical_path_hours, 9.0);
        assert_eq!(r.total_work_hours, 10.0);
        assert_eq!(r.efficiency_gain_percent, 10.0);
        let mut all_done = diamond();
        all_done
            .iter_mut()
            .for_each(|t| t.status = TaskStatus::Done);
        assert_eq!(optimal_agent_count(&all_done).optimal_agents, 0);
    }

    #[test]
    fn healthy_board_scores_100() {
        let h = board_health(&diamond(), &[], 0);
        assert_eq!((h.score, h.status.as_str()), (100, "healthy"));
        assert!(h.issues.is_empty(), "{:?}", h.issues);
    }

    #[test]
    fn a_blocked_task_is_never_healthy() {
        let mut tasks = diamond();
        tasks[1].status = TaskStatus::Blocked;
        let h = board_health(&tasks, &[], 0);
        let blocked: Vec<&HealthIssue> = h
            .issues
            .iter()
            .filter(|i| i.kind == "blocked_task")
            .collect();
        assert_eq!(blocked.len(), 1, "{:?}", h.issues);
        assert_eq!(blocked[0].task_ids, vec![tasks[1].id.clone()]);
        assert_eq!(blocked[0].severity, "high");
        assert_eq!((h.score, h.status.as_str()), (80, "warning"));
    }

    #[test]
    fn finds_cycles_gridlock_bottlenecks_chains_stale_and_overload() {
        let cyclic = vec![task("a", &["b"], 1.0), task("b", &["a"], 1.0)];
        let h = board_health(&cyclic, &[], 0);
        let kinds: Vec<&str> = h.issues.iter().map(|i| i.kind.as_str()).collect();
        assert_eq!(kinds, vec!["cycle", "gridlock"]);
        assert_eq!(h.score, 40);

        let mut hub = vec![task("hub", &[], 1.0)];
        for i in 0..3 {
            hub.push(task(&format!("x{i}"), &["hub"], 1.0));
        }
        assert!(
            board_health(&hub, &[], 0)
                .issues
                .iter()
                .any(|i| i.kind == "bottleneck")
        );

        let chain: Vec<Task> = (0..7)
            .map(|i| {
                if i == 0 {
                    task("c0", &[], 1.0)
                } else {
                    task(&format!("c{i}"), &[&format!("c{}", i - 1)], 1.0)
                }
            })
            .collect();
        assert!(
            board_health(&chain, &[], 0)
                .issues
                .iter()
                .any(|i| i.kind == "long_chain")
        );

        let held = lease::assign(&task("s", &[], 1.0), "ag", 0, 1);
        let h = board_health(std::slice::from_ref(&held), &[], 5_000);
        assert!(h.issues.iter().any(|i| i.kind == "stale_lease"));
        let other = lease::assign(&task("t", &[], 1.0), "ag", 0, 100);
        let h = board_health(
            &[lease::assign(&task("s", &[], 1.0), "ag", 0, 100), other],
            &[],
            10,
        );
        assert!(h.issues.iter().any(|i| i.kind == "overloaded_agent"));
    }

    #[test]
    fn skill_mismatch_and_idle_agents() {
        let mut t = task("t", &[], 1.0);
        t.labels = vec!["rust".into()];
        let agent = Agent {
            id: "a".into(),
            name: "Ada".into(),
            role: String::new(),
            skills: vec!["python".into()],
            project_id: None,
            status: AgentStatus::Available,
            current_task_id: None,
            completed_tasks_count: 0,
            assigned_tasks_count: 0,
            registered_at: 0,
            last_seen: 0,
        };
        let h = board_health(&[t], &[agent], 0);
        let kinds: Vec<&str> = h.issues.iter().map(|i| i.kind.as_str()).collect();
        assert_eq!(kinds, vec!["idle_agent", "skill_mismatch"]);
    }

    fn agent(id: &str, skills: &[&str], status: AgentStatus) -> Agent {
        Agent {
            id: id.into(),
            name: id.to_uppercase(),
            role: String::new(),
            skills: skills.iter().map(|s| s.to_string()).collect(),
            project_id: None,
            status,
            current_task_id: None,
            completed_tasks_count: 0,
            assigned_tasks_count: 0,
            registered_at: 0,
            last_seen: 0,
        }
    }

    fn kinds(h: &BoardHealth) -> Vec<&str> {
        h.issues.iter().map(|i| i.kind.as_str()).collect()
    }

    #[test]
    fn velocity_counts_only_the_last_day() {
        let day = 24 * HOUR_MS;
        let mut tasks: Vec<Task> = (0..4).map(|i| task(&format!("t{i}"), &[], 1.0)).collect();
        for (i, at) in [(0, HOUR_MS), (1, day + HOUR_MS), (2, day + 2 * HOUR_MS)] {
            tasks[i].status = TaskStatus::Done;
            tasks[i].completed_at = Some(at);
        }
        let s = project_status(&tasks, 2 * day);
        assert_eq!(s.done, 3);
        assert_eq!(
            s.velocity_per_hour,
            (2.0_f64 / 24.0 * 100.0).round() / 100.0
        );
        assert_eq!(s.velocity_per_day, 2.0);
        // One task left at the reported pace of 0.08 an hour.
        assert_eq!(s.eta_hours, Some(12.5));
        assert_eq!(s.completion_percentage, 75.0);
    }

    #[test]
    fn completion_rounds_to_one_decimal_and_finished_projects_need_no_time() {
        let mut tasks: Vec<Task> = (0..3).map(|i| task(&format!("t{i}"), &[], 1.0)).collect();
        tasks[0].status = TaskStatus::Done;
        assert_eq!(project_status(&tasks, 0).completion_percentage, 33.3);
        tasks.iter_mut().for_each(|t| t.status = TaskStatus::Done);
        let s = project_status(&tasks, 0);
        assert_eq!((s.completion_percentage, s.eta_hours), (100.0, Some(0.0)));
    }

    #[test]
    fn stale_leases_include_in_progress_tasks_without_a_lease() {
        let mut orphan = task("orphan", &[], 1.0);
        orphan.status = TaskStatus::InProgress;
        let live = lease::assign(&task("live", &[], 1.0), "ag", 0, 100);
        let lapsed = lease::assign(&task("lapsed", &[], 1.0), "ag", 0, 1);
        let s = project_status(&[orphan, live, lapsed], 1_000);
        assert_eq!(s.stale_lease_task_ids, vec!["orphan", "lapsed"]);
        assert_eq!(s.in_progress, 3);
    }

    #[test]
    fn score_drops_by_severity_and_status_follows() {
        // cycle (critical 30) + gridlock (critical 30) = 40 -> critical.
        let cyclic = vec![task("a", &["b"], 1.0), task("b", &["a"], 1.0)];
        let h = board_health(&cyclic, &[], 0);
        assert_eq!((h.score, h.status.as_str()), (40, "critical"));
        assert!(h.issues[1].message.contains("cycle"), "{:?}", h.issues);
        // One bottleneck (medium 10) -> 90, healthy.
        let mut hub = vec![task("hub", &[], 1.0)];
        hub.extend((0..3).map(|i| task(&format!("x{i}"), &["hub"], 1.0)));
        let h = board_health(&hub, &[], 0);
        assert_eq!((h.score, h.status.as_str()), (90, "healthy"));
        assert_eq!(h.issues[0].task_ids, vec!["hub"]);
        // Many cycles never go below zero.
        let many: Vec<Task> = (0..10)
            .flat_map(|i| {
                [
                    task(&format!("p{i}"), &[&format!("q{i}")], 1.0),
                    task(&format!("q{i}"), &[&format!("p{i}")], 1.0),
                ]
            })
            .collect();
        assert_eq!(board_health(&many, &[], 0).score, 0);
    }

    #[test]
    fn a_finished_hub_is_no_bottleneck_and_finished_chains_are_not_long() {
        let mut hub = vec![task("hub", &[], 1.0)];
        hub[0].status = TaskStatus::Done;
        hub.extend((0..3).map(|i| task(&format!("x{i}"), &["hub"], 1.0)));
        assert!(board_health(&hub, &[], 0).issues.is_empty());

        let mut chain: Vec<Task> = (0..7)
            .map(|i| match i {
                0 => task("c0", &[], 1.0),
                _ => task(&format!("c{i}"), &[&format!("c{}", i - 1)], 1.0),
            })
            .collect();
        let h = board_health(&chain, &[], 0);
        let long = h.issues.iter().find(|i| i.kind == "long_chain").unwrap();
        assert_eq!(long.task_ids, vec!["c6"]);
        chain[0].status = TaskStatus::Done;
        chain[1].status = TaskStatus::Done;
        assert!(!kinds(&board_health(&chain, &[], 0)).contains(&"long_chain"));
    }

    #[test]
    fn gridlock_on_blocked_work_names_the_blocked_tasks() {
        let mut stuck = task("stuck", &[], 1.0);
        stuck.status = TaskStatus::Blocked;
        let h = board_health(&[stuck, task("next", &["stuck"], 1.0)], &[], 0);
        assert_eq!(kinds(&h), vec!["blocked_task", "gridlock"]);
        assert_eq!(h.issues[0].task_ids, vec!["stuck"]);
        assert!(
            h.issues[1].message.contains("stuck"),
            "{}",
            h.issues[1].message
        );
        assert_eq!(h.issues[1].task_ids, vec!["next"]);
        // Work in progress is no gridlock.
        let held = lease::assign(&task("a", &[], 1.0), "ag", 0, 100);
        let h = board_health(&[held, task("b", &["a"], 1.0)], &[], 0);
        assert!(h.issues.is_empty(), "{:?}", h.issues);
    }

    #[test]
    fn agents_holding_work_are_not_idle_and_issues_name_agents() {
        let ready = task("r", &[], 1.0);
        let held = lease::assign(&task("h", &[], 1.0), "busy", 0, 100);
        let agents = vec![
            agent("busy", &[], AgentStatus::Available),
            agent("free", &[], AgentStatus::Available),
            agent("work", &[], AgentStatus::Working),
        ];
        let h = board_health(&[ready, held], &agents, 0);
        let idle = h.issues.iter().find(|i| i.kind == "idle_agent").unwrap();
        assert_eq!(idle.agent_ids, vec!["free"]);
        assert_eq!(idle.task_ids, vec!["r"]);
        assert!(idle.message.contains("FREE"));

        let two = vec![
            lease::assign(&task("s", &[], 1.0), "ag", 0, 100),
            lease::assign(&task("t", &[], 1.0), "ag", 0, 100),
        ];
        let h = board_health(&two, &[], 10);
        let over = h
            .issues
            .iter()
            .find(|i| i.kind == "overloaded_agent")
            .unwrap();
        assert_eq!(
            (over.agent_ids.clone(), over.task_ids.len()),
            (vec!["ag".to_string()], 2)
        );
        assert_eq!(h.score, 80);
    }

    #[test]
    fn skill_mismatch_needs_agents_and_labels() {
        let mut labelled = task("t", &[], 1.0);
        labelled.labels = vec!["Rust".into()];
        let unlabelled = task("u", &[], 1.0);
        let both = [labelled.clone(), unlabelled];
        assert!(!kinds(&board_health(&both, &[], 0)).contains(&"skill_mismatch"));
        let rustacean = agent("r", &["rust"], AgentStatus::Working);
        assert!(!kinds(&board_health(&both, &[rustacean], 0)).contains(&"skill_mismatch"));
        let pythonista = agent("p", &["python"], AgentStatus::Working);
        let h = board_health(&both, &[pythonista], 0);
        let mismatch = h
            .issues
            .iter()
            .find(|i| i.kind == "skill_mismatch")
            .unwrap();
        assert_eq!(mismatch.task_ids, vec!["t"]);
    }

    #[test]
    fn optimal_count_plans_only_remaining_work() {
        let mut tasks = diamond();
        tasks[0].status = TaskStatus::Done;
        let r = optimal_agent_count(&tasks);
        assert_eq!(r.critical_path, vec!["b", "d"]);
        assert_eq!((r.critical_path_hours, r.total_work_hours), (7.0, 8.0));
        assert_eq!(
            (r.peak_parallelism, r.optimal_agents, r.remaining_tasks),
            (2, 2, 3)
        );
    }

    #[test]
    fn optimal_count_for_chains_and_fans() {
        let chain = vec![
            task("a", &[], 1.0),
            task("b", &["a"], 1.0),
            task("c", &["b"], 1.0),
        ];
        let r = optimal_agent_count(&chain);
        assert_eq!((r.peak_parallelism, r.optimal_agents), (1, 1));
        assert_eq!(r.efficiency_gain_percent, 0.0);
        let fan: Vec<Task> = (0..5).map(|i| task(&format!("f{i}"), &[], 2.0)).collect();
        let r = optimal_agent_count(&fan);
        assert_eq!((r.peak_parallelism, r.optimal_agents), (5, 5));
        assert_eq!(r.efficiency_gain_percent, 80.0);
        let r = optimal_agent_count(&[]);
        assert_eq!((r.optimal_agents, r.critical_path_hours), (0, 0.0));
    }

    #[test]
    fn issues_serialize_without_empty_agent_ids() {
        let v =
            serde_json::to_value(issue("cycle", "critical", "m".into(), vec!["a".into()])).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"kind": "cycle", "type": "cycle", "severity": "critical", "message": "m", "task_ids": ["a"]})
        );
    }
}
