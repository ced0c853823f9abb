//! `marcus status` for people: the summary as aligned tables.

use super::summary::Summary;

/// Rows under a header, each column as wide as its widest cell; columns after the first
/// `left` are right-aligned (numbers).
fn table(header: &[&str], rows: &[Vec<String>], left: usize) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (cell, w))| {
                if i < left {
                    format!("{cell:<w$}")
                } else {
                    format!("{cell:>w$}")
                }
            })
            .collect();
        padded.join("  ").trim_end().to_string()
    };
    let mut out = vec![line(header.iter().map(|h| h.to_string()).collect())];
    out.extend(rows.iter().map(|r| line(r.clone())));
    out.join("\n")
}

/// The summary as text: the source, a project table with a total row, an agent table.
pub fn render(s: &Summary) -> String {
    let mut out = format!(
        "Marcus board at {} (read from the {})\n\n",
        s.location, s.source
    );
    if s.projects.is_empty() {
        out.push_str("No projects yet.\n");
    } else {
        let counts = |name: String, t: &super::summary::TaskCounts, done: String| {
            vec![
                name,
                t.total.to_string(),
                t.todo.to_string(),
                t.in_progress.to_string(),
                t.blocked.to_string(),
                t.done.to_string(),
                done,
            ]
        };
        let mut rows: Vec<Vec<String>> = s
            .projects
            .iter()
            .map(|p| {
                let mut done = format!("{:.0}%", p.completion_percentage);
                if p.stale_leases > 0 {
                    done.push_str(&format!(" ({} lapsed)", p.stale_leases));
                }
                counts(format!("{} ({})", p.name, p.id), &p.tasks, done)
            })
            .collect();
        if s.projects.len() > 1 {
            rows.push(counts("all projects".into(), &s.tasks, String::new()));
        }
        out.push_str(&table(
            &[
                "PROJECT",
                "TASKS",
                "TODO",
                "IN PROGRESS",
                "BLOCKED",
                "DONE",
                "COMPLETE",
            ],
            &rows,
            1,
        ));
        out.push('\n');
    }
    out.push('\n');
    if s.agents.is_empty() {
        out.push_str("No agents registered.\n");
        return out;
    }
    let rows: Vec<Vec<String>> = s
        .agents
        .iter()
        .map(|a| {
            let (holds, left) = match (&a.lease, &a.current_task_id) {
                (Some(l), _) => (
                    format!("{} ({}, {}%)", l.task_name, l.task_id, l.progress),
                    format!("{} s", l.seconds_left),
                ),
                (None, Some(task)) => (format!("{task} (lease lapsed)"), "-".into()),
                (None, None) => ("-".into(), "-".into()),
            };
            vec![
                a.id.clone(),
                a.name.clone(),
                a.role.clone(),
                a.status.clone(),
                holds,
                left,
                a.completed_tasks.to_string(),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "AGENT",
            "NAME",
            "ROLE",
            "STATUS",
            "HOLDS",
            "LEASE LEFT",
            "COMPLETED",
        ],
        &rows,
        5,
    ));
    out.push_str(&format!(
        "\n\nagents: {}, live leases: {}\n",
        s.agents.len(),
        s.live_leases
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::super::summary::{AgentLine, Lease, ProjectLine, Summary, TaskCounts};
    use super::render;

    #[test]
    fn projects_and_agents_line_up_under_their_headers() {
        let tasks = TaskCounts {
            total: 12,
            todo: 9,
            in_progress: 1,
            blocked: 0,
            done: 2,
        };
        let s = Summary {
            source: "server".into(),
            location: "http://127.0.0.1:4298".into(),
            projects: vec![ProjectLine {
                id: "p1".into(),
                name: "demo".into(),
                tasks,
                completion_percentage: 16.7,
                stale_leases: 0,
            }],
            tasks,
            agents: vec![AgentLine {
                id: "a1".into(),
                name: "Ada".into(),
                role: "dev".into(),
                status: "working".into(),
                current_task_id: Some("t1".into()),
                completed_tasks: 2,
                lease: Some(Lease {
                    task_id: "t1".into(),
                    task_name: "API".into(),
                    project_id: "p1".into(),
                    progress: 40,
                    expires_at: 1,
                    seconds_left: 170,
                }),
            }],
            live_leases: 1,
        };
        let text = render(&s);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[2],
            "PROJECT    TASKS  TODO  IN PROGRESS  BLOCKED  DONE  COMPLETE"
        );
        assert_eq!(
            lines[3],
            "demo (p1)     12     9            1        0     2       17%"
        );
        let agent = lines.iter().find(|l| l.starts_with("a1 ")).unwrap();
        assert_eq!(
            *agent,
            "a1     Ada   dev   working  API (t1, 40%)       170 s          2"
        );
        assert!(text.ends_with("agents: 1, live leases: 1\n"), "{text}");
        let empty = Summary {
            projects: vec![],
            agents: vec![],
            ..s
        };
        assert!(render(&empty).contains("No projects yet.\n\nNo agents registered."));
    }
}
