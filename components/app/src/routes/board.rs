//! The board's JSON API for people, scripts and the dashboard: resource-shaped routes over
//! the same operations as the MCP tools. The table below drives both dispatch and the
//! OpenAPI document, so the two cannot disagree.

use crate::http_io::{Request, Response};
use crate::tools::{ToolCtx, find};
use marcus_core::api_error::ApiError;
use serde_json::{Map, Value};

/// One route: path parameters, query parameters and the JSON body become the arguments of
/// whatever answers it.
pub struct BoardRoute {
    /// HTTP method.
    pub method: &'static str,
    /// Path with `{param}` segments.
    pub path: &'static str,
    /// What answers.
    pub answer: Answer,
    /// One line for the OpenAPI document.
    pub summary: &'static str,
}

/// What answers a board route.
pub enum Answer {
    /// A tool, the same one agents call over MCP.
    Tool(&'static str),
    /// A read-only view for people (the dashboard), not offered to agents as a tool.
    View(crate::views::View),
}

impl Answer {
    /// The tool's name, for tool routes.
    pub fn tool(&self) -> Option<&'static str> {
        match self {
            Answer::Tool(name) => Some(name),
            Answer::View(_) => None,
        }
    }
}

/// Every board route.
pub const ROUTES: &[BoardRoute] = &[
    BoardRoute {
        method: "GET",
        path: "/api/projects",
        answer: Answer::Tool("list_projects"),
        summary: "List projects with completion",
    },
    BoardRoute {
        method: "POST",
        path: "/api/projects",
        answer: Answer::Tool("create_project"),
        summary: "Create a project, optionally with tasks",
    },
    BoardRoute {
        method: "GET",
        path: "/api/projects/{project_id}",
        answer: Answer::Tool("get_project_status"),
        summary: "Project status: completion, counts, velocity, ETA",
    },
    BoardRoute {
        method: "GET",
        path: "/api/projects/{project_id}/tasks",
        answer: Answer::Tool("get_all_board_tasks"),
        summary: "All tasks of a project (optional ?status=)",
    },
    BoardRoute {
        method: "POST",
        path: "/api/projects/{project_id}/tasks",
        answer: Answer::Tool("create_tasks"),
        summary: "Add tasks to a project",
    },
    BoardRoute {
        method: "GET",
        path: "/api/projects/{project_id}/health",
        answer: Answer::Tool("check_board_health"),
        summary: "Board health issues and score",
    },
    BoardRoute {
        method: "GET",
        path: "/api/projects/{project_id}/optimal-agents",
        answer: Answer::Tool("get_optimal_agent_count"),
        summary: "Optimal agent count by the critical-path method",
    },
    BoardRoute {
        method: "GET",
        path: "/api/tasks/{task_id}",
        answer: Answer::Tool("get_task_context"),
        summary: "A task with its dependencies' artifacts and decisions",
    },
    BoardRoute {
        method: "GET",
        path: "/api/tasks/{task_id}/dependencies",
        answer: Answer::Tool("check_task_dependencies"),
        summary: "Dependency state of a task",
    },
    BoardRoute {
        method: "POST",
        path: "/api/tasks/{task_id}/progress",
        answer: Answer::Tool("report_task_progress"),
        summary: "Report progress (agent_id, status, progress, message)",
    },
    BoardRoute {
        method: "POST",
        path: "/api/tasks/{task_id}/blockers",
        answer: Answer::Tool("report_blocker"),
        summary: "Report a blocker on a task",
    },
    BoardRoute {
        method: "POST",
        path: "/api/tasks/{task_id}/decisions",
        answer: Answer::Tool("log_decision"),
        summary: "Log a decision",
    },
    BoardRoute {
        method: "POST",
        path: "/api/tasks/{task_id}/artifacts",
        answer: Answer::Tool("log_artifact"),
        summary: "Store an artifact",
    },
    BoardRoute {
        method: "POST",
        path: "/api/tasks/{task_id}/unassign",
        answer: Answer::Tool("unassign_task"),
        summary: "Return a task to the pool",
    },
    BoardRoute {
        method: "POST",
        path: "/api/tasks/{task_id}/resolve-blockers",
        answer: Answer::Tool("resolve_blocker"),
        summary: "Resolve every open blocker of a task",
    },
    BoardRoute {
        method: "POST",
        path: "/api/blockers/{blocker_id}/resolve",
        answer: Answer::Tool("resolve_blocker"),
        summary: "Resolve one blocker",
    },
    BoardRoute {
        method: "GET",
        path: "/api/projects/{project_id}/queue",
        answer: Answer::View(crate::views::queue::VIEW),
        summary: "Task queue: ready tasks in hand-out order, leases, waiting and blocked tasks",
    },
    BoardRoute {
        method: "GET",
        path: "/api/projects/{project_id}/analytics",
        answer: Answer::View(crate::views::analytics::VIEW),
        summary: "Projected completion, at-risk tasks and burndown points",
    },
    BoardRoute {
        method: "GET",
        path: "/api/tasks/{task_id}/timeline",
        answer: Answer::View(crate::views::timeline::VIEW),
        summary: "A task's progress reports and blockers in time order",
    },
    BoardRoute {
        method: "GET",
        path: "/api/agents",
        answer: Answer::Tool("list_registered_agents"),
        summary: "Registered agents",
    },
    BoardRoute {
        method: "POST",
        path: "/api/agents",
        answer: Answer::Tool("register_agent"),
        summary: "Register an agent",
    },
    BoardRoute {
        method: "GET",
        path: "/api/agents/{agent_id}",
        answer: Answer::Tool("get_agent_status"),
        summary: "An agent and its current task",
    },
    BoardRoute {
        method: "POST",
        path: "/api/agents/{agent_id}/next-task",
        answer: Answer::Tool("request_next_task"),
        summary: "Claim the next ready task for an agent",
    },
];

/// Matches (decoded) `segments` against a route path, returning its parameters.
fn matches(path: &str, segments: &[&str]) -> Option<Vec<(String, String)>> {
    let pattern: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if pattern.len() != segments.len() {
        return None;
    }
    let mut params = Vec::new();
    for (p, s) in pattern.iter().zip(segments) {
        if let Some(name) = p.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            params.push((name.to_string(), (*s).to_string()));
        } else if p != s {
            return None;
        }
    }
    Some(params)
}

/// Answers a board route, `None` when no board path matches.
pub fn handle(req: &Request, segments: &[&str]) -> Option<Result<Response, ApiError>> {
    let candidates: Vec<(&BoardRoute, Vec<(String, String)>)> = ROUTES
        .iter()
        .filter_map(|r| matches(r.path, segments).map(|p| (r, p)))
        .collect();
    if candidates.is_empty() {
        return None;
    }
    let Some((route, params)) = candidates.iter().find(|(r, _)| r.method == req.method) else {
        let allowed: Vec<&str> = candidates.iter().map(|(r, _)| r.method).collect();
        return Some(Err(crate::allowed_methods::method_not_allowed(
            &req.method,
            &allowed,
        )));
    };
    Some(run(req, route, params))
}

fn run(
    req: &Request,
    route: &BoardRoute,
    params: &[(String, String)],
) -> Result<Response, ApiError> {
    let mut args: Map<String, Value> = match req.method.as_str() {
        "POST" => match req.json()? {
            Value::Null => Map::new(),
            Value::Object(m) => m,
            _ => return Err(ApiError::bad_request("the body must be a JSON object")),
        },
        _ => Map::new(),
    };
    for (k, v) in &req.query {
        args.entry(k.clone())
            .or_insert_with(|| Value::String(v.clone()));
    }
    for (k, v) in params {
        args.insert(k.clone(), Value::String(v.clone()));
    }
    let result = match &route.answer {
        Answer::Tool(name) => {
            let tool = find(name)
                .ok_or_else(|| ApiError::internal(format!("route names unknown tool {name}")))?;
            crate::tools::call(tool, &ToolCtx::default(), &args)?
        }
        Answer::View(view) => (view.run)(&args)?,
    };
    let status = if created(route) { 201 } else { 200 };
    Ok(Response::json(status, &result))
}

/// Whether a route creates something and answers 201 (POST of a `create_` tool), else 200.
pub fn created(route: &BoardRoute) -> bool {
    route.method == "POST"
        && route
            .answer
            .tool()
            .is_some_and(|t| t.starts_with("create_"))
}
