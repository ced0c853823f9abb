//! A task's history for people: progress reports and blockers (reported and resolved) in
//! one chronological list, the story of who did what to the task and when.

use super::model::{Blocker, Millis, ProgressEntry};
use serde::Serialize;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimelineKind {
    /// A progress report.
    Progress,
    /// The completion report.
    Completed,
    /// A blocker was reported.
    BlockerReported,
    /// A blocker was resolved.
    BlockerResolved,
}

/// One moment in a task's history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimelineEntry {
    /// When.
    pub at: Millis,
    /// What.
    pub kind: TimelineKind,
    /// Who (the reporter, or who resolved a blocker, when known).
    pub agent_id: Option<String>,
    /// Percent reported, for progress.
    pub progress: Option<u8>,
    /// The message, blocker text or resolution.
    pub text: String,
    /// Blocker severity, for blockers.
    pub severity: Option<String>,
    /// The blocker concerned, for blockers.
    pub blocker_id: Option<String>,
}

/// Merges a task's progress reports and blockers into one list, oldest first (same-moment
/// entries in the order progress, completion, blocker reported, blocker resolved).
pub fn timeline(progress: &[ProgressEntry], blockers: &[Blocker]) -> Vec<TimelineEntry> {
    let mut out: Vec<TimelineEntry> = progress
        .iter()
        .map(|p| TimelineEntry {
            at: p.timestamp,
            kind: if p.status == "completed" {
                TimelineKind::Completed
            } else {
                TimelineKind::Progress
            },
            agent_id: Some(p.agent_id.clone()),
            progress: Some(p.progress),
            text: p.message.clone(),
            severity: None,
            blocker_id: None,
        })
        .collect();
    for b in blockers {
        out.push(TimelineEntry {
            at: b.reported_at,
            kind: TimelineKind::BlockerReported,
            agent_id: Some(b.agent_id.clone()),
            progress: None,
            text: b.description.clone(),
            severity: Some(b.severity.clone()),
            blocker_id: Some(b.id.clone()),
        });
        if let Some(at) = b.resolved_at {
            out.push(TimelineEntry {
                at,
                kind: TimelineKind::BlockerResolved,
                agent_id: b.resolved_by.clone(),
                progress: None,
                text: b.resolution.clone().unwrap_or_default(),
                severity: Some(b.severity.clone()),
                blocker_id: Some(b.id.clone()),
            });
        }
    }
    out.sort_by(|a, b| a.at.cmp(&b.at).then(a.kind.cmp(&b.kind)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(at: Millis, status: &str, progress: u8, message: &str) -> ProgressEntry {
        ProgressEntry {
            task_id: "t".into(),
            project_id: "p".into(),
            agent_id: "ag".into(),
            status: status.into(),
            progress,
            message: message.into(),
            timestamp: at,
        }
    }

    #[test]
    fn reports_and_blockers_interleave_in_time_order() {
        let progress = [
            report(40, "completed", 100, "shipped"),
            report(10, "in_progress", 30, "schema drafted"),
        ];
        let blockers = [Blocker {
            id: "blk".into(),
            task_id: "t".into(),
            project_id: "p".into(),
            agent_id: "ag".into(),
            description: "no database credentials".into(),
            severity: "high".into(),
            reported_at: 20,
            resolved_at: Some(30),
            resolution: Some("credentials issued".into()),
            resolved_by: Some("lead".into()),
        }];
        let t = timeline(&progress, &blockers);
        let seen: Vec<(Millis, TimelineKind, &str)> =
            t.iter().map(|e| (e.at, e.kind, e.text.as_str())).collect();
        assert_eq!(
            seen,
            [
                (10, TimelineKind::Progress, "schema drafted"),
                (20, TimelineKind::BlockerReported, "no database credentials"),
                (30, TimelineKind::BlockerResolved, "credentials issued"),
                (40, TimelineKind::Completed, "shipped"),
            ]
        );
        assert_eq!(t[2].agent_id.as_deref(), Some("lead"));
        assert_eq!(t[3].progress, Some(100));
    }

    #[test]
    fn an_open_blocker_has_no_resolution_entry() {
        let blockers = [Blocker {
            id: "blk".into(),
            task_id: "t".into(),
            project_id: "p".into(),
            agent_id: "ag".into(),
            description: "waiting".into(),
            severity: "low".into(),
            reported_at: 5,
            resolved_at: None,
            resolution: None,
            resolved_by: None,
        }];
        let t = timeline(&[], &blockers);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].kind, TimelineKind::BlockerReported);
    }
}
