//! The board's JSON API for people, scripts and the dashboard: resource-shaped routes over
//! the same operations as the MCP tools. The table below drives both dispatch and the
//! OpenAPI document, so the two cannot disagree.

use crate::http_io::{Request, Response};
use crate::tools::{ToolCtx, find};
use marcus_core::api_error::ApiError;
use serde_json::{Map, Value};

/// One route backed by a tool: path parameters, query parameters and the JSON body become
/// the tool's arguments.
pub struct BoardRoute {
    /// HTTP method.
    pub method: &'static str,
    /// Path with `{param}` segments.
    pub path: &'static str,
    /// The tool that answers.
    pub tool: &'static str,
    /// One line for the OpenAPI document.
    pub summary: &'static str,
}

/// Every board route.
pub const ROUTES: &[BoardRoute] = &[
    BoardRoute {
        method: "GET",
        path: "/api/projects",
        tool: "list_projects",
        summary: "List projects with completion",
    },
    BoardRoute {
        method: "POST",
        path: "/api/projects",
        tool: "create_project",
        summary: "Create a project, optionally with tasks",
    },
    BoardRoute {
        method: "GET",
        path: "/api/projects/{project_id}",
        tool: "get_project_status",
        summary: "Project status: completion, counts, velocity, ETA",
    },
    BoardRoute {
        method: "GET",
        path: "/api/projects/{project_id}/tasks",
        tool: "get_all_board_tasks",
        summary: "All tasks of a project (optional ?status=)",
    },
    BoardRoute {
        method: "POST",
        path: "/api/projects/{project_id}/tasks",
        tool: "create_tasks",
        summary: "Add tasks to a project",
    },
    BoardRoute {
        method: "GET",
        path: "/api/projects/{project_id}/health",
        tool: "check_board_health",
        summary: "Board health issues and score",
    },
    BoardRoute {
        method: "GET",
        path: "/api/projects/{project_id}/optimal-agents",
        tool: "get_optimal_agent_count",
        summary: "Optimal agent count by the critical-path method",
    },
    BoardRoute {
        method: "GET",
        path: "/api/tasks/{task_id}",
        tool: "get_task_context",
        summary: "A task with its dependencies' artifacts and decisions",
    },
    BoardRoute {
        method: "GET",
        path: "/api/tasks/{task_id}/dependencies",
        tool: "check_task_dependencies",
        summary: "Dependency state of a task",
    },
    BoardRoute {
        method: "POST",
        path: "/api/tasks/{task_id}/progress",
        tool: "report_task_progress",
        summary: "Report progress (agent_id, status, progress, message)",
    },
    BoardRoute {
        method: "POST",
        path: "/api/tasks/{task_id}/blockers",
        tool: "report_blocker",
        summary: "Report a blocker on a task",
    },
    BoardRoute {
        method: "POST",
        path: "/api/tasks/{task_id}/decisions",
        tool: "log_decision",
        summary: "Log a decision",
    },
    BoardRoute {
        method: "POST",
        path: "/api/tasks/{task_id}/artifacts",
        tool: "log_artifact",
        summary: "Store an artifact",
    },
    BoardRoute {
        method: "POST",
        path: "/api/tasks/{task_id}/unassign",
        tool: "unassign_task",
        summary: "Return a task to the pool",
    },
    BoardRoute {
        method: "POST",
        path: "/api/tasks/{task_id}/resolve-blockers",
        tool: "resolve_blocker",
        summary: "Resolve every open blocker of a task",
    },
    BoardRoute {
        method: "POST",
        path: "/api/blockers/{blocker_id}/resolve",
        tool: "resolve_blocker",
        summary: "Resolve one blocker",
    },
    BoardRoute {
        method: "GET",
        path: "/api/agents",
        tool: "list_registered_agents",
        summary: "Registered agents",
    },
    BoardRoute {
        method: "POST",
        path: "/api/agents",
        tool: "register_agent",
        summary: "Register an agent",
    },
    BoardRoute {
        method: "GET",
        path: "/api/agents/{agent_id}",
        tool: "get_agent_status",
        summary: "An agent and its current task",
    },
    BoardRoute {
        method: "POST",
        path: "/api/agents/{agent_id}/next-task",
        tool: "request_next_task",
        summary: "Claim the next ready task for an agent",
    },
];

/// Matches `segments` against a route path, returning its parameters.
fn matches(path: &str, segments: &[&str]) -> Option<Vec<(String, String)>> {
    let pattern: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if pattern.len() != segments.len() {
        return None;
    }
    let mut params = Vec::new();
    for (p, s) in pattern.iter().zip(segments) {
        if let Some(name) = p.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            params.push((name.to_string(), crate::http_io::percent_decode(s)));
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
        return Some(Err(crate::router::method_not_allowed(
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
    let tool = find(route.tool)
        .ok_or_else(|| ApiError::internal(format!("route names unknown tool {}", route.tool)))?;
    let result = (tool.run)(&ToolCtx::default(), &args)?;
    let status = if route.method == "POST" && route.tool.starts_with("create_") {
        201
    } else {
        200
    };
    Ok(Response::json(status, &result))
}
