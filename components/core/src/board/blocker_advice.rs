//! What to do about a blocker just reported (upstream's `suggestions`), from the blocked
//! task's record: where an answer may already be, who waits, and how the task comes back.

use super::model::Task;

/// Numbered suggestions, one per line, for `task` blocked with `severity` (low, medium,
/// high): where its dependencies' work is, what to save for the next holder, how many
/// tasks wait for it, and how it returns to the pool.
pub fn suggestions(task: &Task, severity: &str) -> String {
    let mut lines = Vec::new();
    if severity == "high" {
        lines.push("High severity: bring it to a person now; nothing that needs this task moves until it is resolved.".to_string());
    }
    if !task.dependencies.is_empty() {
        lines.push(format!(
            "Check the artifacts and decisions of its {} dependenc{} with get_task_context(task_id=\"{}\"): the answer may already be there.",
            task.dependencies.len(),
            if task.dependencies.len() == 1 { "y" } else { "ies" },
            task.id
        ));
    }
    if task.progress > 0 {
        lines.push(format!(
            "Save the work done so far ({} %) with log_artifact and log_decision, so whoever takes the task next continues from there.",
            task.progress
        ));
    }
    if !task.dependents.is_empty() {
        lines.push(format!(
            "{} task(s) wait for this one; resolving it comes before them.",
            task.dependents.len()
        ));
    }
    lines.push(format!(
        "The task stays out of the pool until resolve_blocker(task_id=\"{}\") or unassign_task; meanwhile call request_next_task for other work.",
        task.id
    ));
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| format!("{}. {l}", i + 1))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::board::graph::tests::task;

    #[test]
    fn suggestions_follow_the_task() {
        let plain = suggestions(&task("t", &[], 1.0), "low");
        assert_eq!(plain.lines().count(), 1);
        assert!(
            plain.starts_with(
                "1. The task stays out of the pool until resolve_blocker(task_id=\"t\")"
            )
        );
        let mut busy = task("t", &["a", "b"], 1.0);
        busy.progress = 40;
        busy.dependents = vec!["c".into()];
        let s = suggestions(&busy, "high");
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(lines.len(), 5, "{s}");
        assert!(lines[0].starts_with("1. High severity"));
        assert!(lines[1].contains("its 2 dependencies"));
        assert!(lines[2].contains("(40 %)"));
        assert!(lines[3].starts_with("4. 1 task(s) wait"));
    }
}
