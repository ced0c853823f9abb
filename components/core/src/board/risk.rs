//! Tasks at risk of delaying the project: what people should look at before agents stall.

use super::graph::dependents;
use super::health::optimal_agent_count;
use super::model::{Millis, Task, TaskStatus};
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// A task in progress longer than this multiple of its estimate is overrunning.
pub const OVERRUN_FACTOR: f64 = 1.5;

const HOUR_MS: f64 = 3_600_000.0;

/// Why a task is at risk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskReason {
    /// It is blocked.
    Blocked,
    /// It depends (directly or not) on a blocked task.
    WaitsOnBlocked,
    /// It depends on a task that does not exist.
    MissingDependency,
    /// In progress, but its holder's lease lapsed.
    StaleLease,
    /// In progress for longer than its estimate allows.
    Overrunning,
}

/// One task at risk.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AtRiskTask {
    /// Task id.
    pub id: String,
    /// Task name.
    pub name: String,
    /// high when it is or waits on something that needs a person; medium otherwise.
    pub severity: String,
    /// Every reason that applies.
    pub reasons: Vec<RiskReason>,
    /// Whether it lies on the remaining critical path, so any delay moves the end date.
    pub on_critical_path: bool,
    /// For people.
    pub detail: String,
}

/// Finds the unfinished tasks at risk at `now`, the most urgent first (high before
/// medium, critical-path tasks first, then by name).
pub fn at_risk(tasks: &[Task], now: Millis) -> Vec<AtRiskTask> {
    let by_id: HashMap<&str, &Task> = tasks.iter().map(|t| (t.id.as_str(), t)).collect();
    let critical: HashSet<String> = optimal_agent_count(tasks)
        .critical_path
        .into_iter()
        .collect();
    // Everything downstream of a blocked task.
    let reverse = dependents(tasks);
    let mut behind_blocked: HashMap<&str, Vec<&str>> = HashMap::new();
    for b in tasks.iter().filter(|t| t.status == TaskStatus::Blocked) {
        let mut stack: Vec<&str> = vec![b.id.as_str()];
        let mut seen: HashSet<&str> = HashSet::new();
        while let Some(id) = stack.pop() {
            for d in reverse.get(id).into_iter().flatten() {
                if seen.insert(d.as_str()) {
                    behind_blocked
                        .entry(d.as_str())
                        .or_default()
                        .push(b.name.as_str());
                    stack.push(d.as_str());
                }
            }
        }
    }
    let mut out = Vec::new();
    for t in tasks.iter().filter(|t| t.status != TaskStatus::Done) {
        let mut reasons = Vec::new();
        let mut details = Vec::new();
        if t.status == TaskStatus::Blocked {
            reasons.push(RiskReason::Blocked);
            details.push("blocked".to_string());
        }
        if let Some(blockers) = behind_blocked.get(t.id.as_str()) {
            let mut names = blockers.clone();
            names.sort();
            names.dedup();
            reasons.push(RiskReason::WaitsOnBlocked);
            details.push(format!("waits on blocked {}", names.join(", ")));
        }
        let missing: Vec<&str> = t
            .dependencies
            .iter()
            .filter(|d| !by_id.contains_key(d.as_str()))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            reasons.push(RiskReason::MissingDependency);
            details.push(format!("depends on missing {}", missing.join(", ")));
        }
        if t.status == TaskStatus::InProgress {
            match &t.lease {
                Some(l) if l.expires_at > now => {}
                _ => {
                    reasons.push(RiskReason::StaleLease);
                    details.push("its lease lapsed".to_string());
                }
            }
            if let Some(started) = t.started_at
                && t.estimated_hours > 0.0
            {
                let hours = now.saturating_sub(started) as f64 / HOUR_MS;
                if hours > t.estimated_hours * OVERRUN_FACTOR {
                    reasons.push(RiskReason::Overrunning);
                    details.push(format!(
                        "in progress {:.1} h against an estimate of {:.1} h",
                        hours, t.estimated_hours
                    ));
                }
            }
        }
        if reasons.is_empty() {
            continue;
        }
        let needs_person = reasons.iter().any(|r| {
            matches!(
                r,
                RiskReason::Blocked | RiskReason::WaitsOnBlocked | RiskReason::MissingDependency
            )
        });
        out.push(AtRiskTask {
            id: t.id.clone(),
            name: t.name.clone(),
            severity: if needs_person { "high" } else { "medium" }.into(),
            reasons,
            on_critical_path: critical.contains(&t.id),
            detail: details.join("; "),
        });
    }
    out.sort_by(|a, b| {
        (a.severity != "high")
            .cmp(&(b.severity != "high"))
            .then_with(|| b.on_critical_path.cmp(&a.on_critical_path))
            .then_with(|| a.name.cmp(&b.name))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::board::graph::tests::task;
    use crate::board::lease;

    const HOUR: Millis = 3_600_000;

    #[test]
    fn blocked_work_and_everything_behind_it_is_at_risk() {
        let mut tasks = vec![
            task("a", &[], 1.0),
            task("b", &["a"], 1.0),
            task("c", &["b"], 1.0),
            task("free", &[], 1.0),
        ];
        tasks[0].status = TaskStatus::Blocked;
        let risks = at_risk(&tasks, 0);
        let seen: Vec<(&str, &str, bool)> = risks
            .iter()
            .map(|r| (r.name.as_str(), r.severity.as_str(), r.on_critical_path))
            .collect();
        assert_eq!(
            seen,
            [
                ("a", "high", true),
                ("b", "high", true),
                ("c", "high", true)
            ]
        );
        assert_eq!(risks[0].reasons, [RiskReason::Blocked]);
        assert_eq!(risks[2].reasons, [RiskReason::WaitsOnBlocked]);
        assert_eq!(risks[2].detail, "waits on blocked a");
    }

    #[test]
    fn stale_and_overrunning_work_is_at_risk() {
        let mut tasks = vec![
            task("stale", &[], 10.0),
            task("slow", &[], 2.0),
            task("fine", &[], 2.0),
            task("ghosted", &["nope"], 1.0),
        ];
        tasks[0] = lease::assign(&tasks[0], "x", 0, 60);
        tasks[1] = lease::assign(&tasks[1], "y", 0, 100_000);
        tasks[2] = lease::assign(&tasks[2], "z", 2 * HOUR, 100_000);
        let risks = at_risk(&tasks, 4 * HOUR);
        let by_name = |n: &str| risks.iter().find(|r| r.name == n);
        assert_eq!(by_name("stale").unwrap().reasons, [RiskReason::StaleLease]);
        assert_eq!(by_name("stale").unwrap().severity, "medium");
        assert_eq!(by_name("slow").unwrap().reasons, [RiskReason::Overrunning]);
        assert!(by_name("slow").unwrap().detail.contains("4.0 h"));
        assert!(by_name("fine").is_none());
        assert_eq!(
            by_name("ghosted").unwrap().reasons,
            [RiskReason::MissingDependency]
        );
        assert_eq!(risks[0].name, "ghosted", "high severity comes first");
    }
}
