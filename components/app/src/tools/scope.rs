//! Which project a project-scoped call is about: the `project_id` argument, else the
//! project selected in the MCP session, else the agent's project, else the only project.

use super::{ToolCtx, args};
use crate::records::{self, collections::PROJECTS};
use marcus_core::api_error::ApiError;
use marcus_core::board::model::Project;
use serde_json::{Map, Value};

const SESSIONS: &str = "mcp_sessions";

/// Resolves the project for a call; `agent_project` is the calling agent's default.
pub fn project_id(
    ctx: &ToolCtx,
    a: &Map<String, Value>,
    agent_project: Option<&str>,
) -> Result<String, ApiError> {
    if let Some(p) = args::opt_str(a, "project_id")? {
        super::projects::load(&p)?;
        return Ok(p);
    }
    if let Some(p) = session_project(ctx)? {
        return Ok(p);
    }
    if let Some(p) = agent_project {
        return Ok(p.to_string());
    }
    let projects = records::query_all::<Project>(PROJECTS, &[])?;
    match projects.as_slice() {
        [only] => Ok(only.value.id.clone()),
        [] => Err(ApiError::new(
            404,
            "no_project",
            "no project exists yet; create one with create_project",
        )),
        // The call is well formed; what the board holds makes it ambiguous, hence 409.
        _ => Err(ApiError::new(
            409,
            "project_ambiguous",
            "project_id is required: several projects exist (see list_projects, or select_project for this session)",
        )),
    }
}

fn session_project(ctx: &ToolCtx) -> Result<Option<String>, ApiError> {
    let Some(sid) = &ctx.session_id else {
        return Ok(None);
    };
    let session = records::get::<Value>(SESSIONS, sid)?;
    Ok(session.and_then(|s| {
        s.value
            .get("project_id")
            .and_then(Value::as_str)
            .map(str::to_string)
    }))
}

/// Remembers `project_id` as the session's project (no-op without a session).
pub fn select_for_session(ctx: &ToolCtx, project_id: &str) -> Result<bool, ApiError> {
    let Some(sid) = &ctx.session_id else {
        return Ok(false);
    };
    for _ in 0..5 {
        let Some(mut session) = records::get::<Value>(SESSIONS, sid)? else {
            return Ok(false);
        };
        if let Value::Object(m) = &mut session.value {
            m.insert("project_id".into(), Value::String(project_id.to_string()));
        }
        let change = records::Change::update(SESSIONS, sid, &session.value, session.version)?;
        match crate::unit_of_work::commit(vec![change]) {
            Ok(()) => return Ok(true),
            Err(e) if e.code == "conflict" => continue,
            Err(e) => return Err(e),
        }
    }
    Err(ApiError::conflict(
        "the session changed concurrently; try again",
    ))
}
