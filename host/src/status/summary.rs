//! What `marcus status` shows, put together from the app's own answers (the project list,
//! each project's status and queue, the agent list): counts are taken as the app computed
//! them, never recomputed here.

use serde::Serialize;
use serde_json::Value;

/// Task counts by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TaskCounts {
    /// All tasks.
    pub total: u64,
    /// Waiting to be taken (or for their dependencies).
    pub todo: u64,
    /// Held by an agent (or with a lapsed lease).
    pub in_progress: u64,
    /// Blocked.
    pub blocked: u64,
    /// Done.
    pub done: u64,
}

impl TaskCounts {
    /// The counts in a project status answer's `status` object.
    fn from_status(status: &Value) -> Self {
        let n = |k: &str| status[k].as_u64().unwrap_or(0);
        Self {
            total: n("total"),
            todo: n("todo"),
            in_progress: n("in_progress"),
            blocked: n("blocked"),
            done: n("done"),
        }
    }

    fn add(&mut self, other: &Self) {
        self.total += other.total;
        self.todo += other.todo;
        self.in_progress += other.in_progress;
        self.blocked += other.blocked;
        self.done += other.done;
    }
}

/// One project.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProjectLine {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its tasks by status.
    pub tasks: TaskCounts,
    /// Done tasks in percent of all.
    pub completion_percentage: f64,
    /// In-progress tasks whose lease has lapsed (the next claim takes them back).
    pub stale_leases: u64,
}

/// A live lease.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lease {
    /// The task held.
    pub task_id: String,
    /// Its name.
    pub task_name: String,
    /// Its project.
    pub project_id: String,
    /// Last reported percent.
    pub progress: u64,
    /// When the lease lapses unless renewed (milliseconds since the Unix epoch).
    pub expires_at: u64,
    /// Seconds left.
    pub seconds_left: u64,
}

/// One agent and the lease it holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentLine {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its role.
    pub role: String,
    /// working or available, as the board records it.
    pub status: String,
    /// The task the board says it holds (its lease may have lapsed).
    pub current_task_id: Option<String>,
    /// Tasks it completed.
    pub completed_tasks: u64,
    /// Its live lease, if any.
    pub lease: Option<Lease>,
}

/// Everything `marcus status` prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// `server` or `store`.
    pub source: String,
    /// The server's URL or the store's location.
    pub location: String,
    /// Projects, as the project list orders them.
    pub projects: Vec<ProjectLine>,
    /// Tasks of every project by status.
    pub tasks: TaskCounts,
    /// Agents, as the agent list orders them.
    pub agents: Vec<AgentLine>,
    /// Live leases across the board.
    pub live_leases: u64,
}

/// One project's answers: `GET /api/projects/{id}` and `GET /api/projects/{id}/queue`.
pub struct ProjectAnswers {
    /// The project status answer.
    pub status: Value,
    /// The queue answer.
    pub queue: Value,
}

/// Builds the summary from the answers of `GET /api/projects` (for names and order), each
/// project's status and queue, and `GET /api/agents`.
pub fn build(
    source: &str,
    location: &str,
    project_list: &Value,
    projects: &[ProjectAnswers],
    agent_list: &Value,
) -> Summary {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let mut lines = Vec::new();
    let mut leases: Vec<(String, Lease)> = Vec::new();
    let mut totals = TaskCounts::default();
    for (listed, answers) in project_list["projects"]
        .as_array()
        .into_iter()
        .flatten()
        .zip(projects)
    {
        let status = &answers.status["status"];
        let tasks = TaskCounts::from_status(status);
        totals.add(&tasks);
        let project_id = text(&listed["id"]);
        lines.push(ProjectLine {
            id: project_id.clone(),
            name: text(&listed["name"]),
            tasks,
            completion_percentage: status["completion_percentage"].as_f64().unwrap_or(0.0),
            stale_leases: status["stale_lease_task_ids"]
                .as_array()
                .map_or(0, |a| a.len() as u64),
        });
        for held in answers.queue["queue"]["in_progress"]
            .as_array()
            .into_iter()
            .flatten()
        {
            leases.push((
                text(&held["agent_id"]),
                Lease {
                    task_id: text(&held["id"]),
                    task_name: text(&held["name"]),
                    project_id: project_id.clone(),
                    progress: held["progress"].as_u64().unwrap_or(0),
                    expires_at: held["lease_expires_at"].as_u64().unwrap_or(0),
                    seconds_left: held["lease_seconds_left"].as_u64().unwrap_or(0),
                },
            ));
        }
    }
    let live_leases = leases.len() as u64;
    let agents = agent_list["agents"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            let id = text(&a["id"]);
            AgentLine {
                lease: leases
                    .iter()
                    .find(|(holder, _)| *holder == id)
                    .map(|(_, l)| l.clone()),
                name: text(&a["name"]),
                role: text(&a["role"]),
                status: text(&a["status"]),
                current_task_id: a["current_task_id"].as_str().map(str::to_string),
                completed_tasks: a["completed_tasks_count"].as_u64().unwrap_or(0),
                id,
            }
        })
        .collect();
    Summary {
        source: source.to_string(),
        location: location.to_string(),
        projects: lines,
        tasks: totals,
        agents,
        live_leases,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn counts_come_from_the_answers_and_leases_meet_their_agents() {
        let list = json!({"projects": [{"id": "p1", "name": "one"}, {"id": "p2", "name": "two"}]});
        let answers = [
            ProjectAnswers {
                status: json!({"status": {"total": 3, "todo": 1, "in_progress": 1, "blocked": 0, "done": 1, "completion_percentage": 33.3, "stale_lease_task_ids": []}}),
                queue: json!({"queue": {"in_progress": [{"id": "t1", "name": "API", "agent_id": "a1", "progress": 40, "lease_expires_at": 5000, "lease_seconds_left": 170}]}}),
            },
            ProjectAnswers {
                status: json!({"status": {"total": 2, "todo": 0, "in_progress": 1, "blocked": 1, "done": 0, "completion_percentage": 0.0, "stale_lease_task_ids": ["t9"]}}),
                queue: json!({"queue": {"in_progress": []}}),
            },
        ];
        let agents = json!({"agents": [
            {"id": "a1", "name": "Ada", "role": "dev", "status": "working", "current_task_id": "t1", "completed_tasks_count": 2},
            {"id": "a2", "name": "Bo", "role": "dev", "status": "working", "current_task_id": "t9", "completed_tasks_count": 0}
        ]});
        let s = build("server", "http://x", &list, &answers, &agents);
        assert_eq!(
            s.tasks,
            TaskCounts {
                total: 5,
                todo: 1,
                in_progress: 2,
                blocked: 1,
                done: 1
            }
        );
        assert_eq!(s.projects[1].stale_leases, 1);
        assert_eq!(s.live_leases, 1);
        let lease = s.agents[0].lease.as_ref().unwrap();
        assert_eq!(
            (
                lease.task_id.as_str(),
                lease.project_id.as_str(),
                lease.seconds_left
            ),
            ("t1", "p1", 170)
        );
        assert!(s.agents[1].lease.is_none());
        assert_eq!(s.agents[1].current_task_id.as_deref(), Some("t9"));
    }
}
