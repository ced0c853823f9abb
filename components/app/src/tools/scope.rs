//! Which project a project-scoped call is about: the `project_id` argument, else the
//! project selected in the MCP session, else the agent's project, else the only project.

use super::board_reads;
use super::fields::IdRef;
use super::tool::ToolCtx;
use crate::board_error::{BoardError, Missing};
use crate::records::{self, collections::PROJECTS};
use marcus_core::board::model::Project;

/// Resolves the project for a call: `given` is its `project_id` argument,
/// `agent_project` the calling agent's default.
pub fn project_id(
    ctx: &ToolCtx,
    given: Option<&IdRef>,
    agent_project: Option<&str>,
) -> Result<String, BoardError> {
    if let Some(IdRef(p)) = given {
        board_reads::project(p)?;
        return Ok(p.clone());
    }
    if let Some(p) = session_project(ctx) {
        return Ok(p);
    }
    if let Some(p) = agent_project {
        return Ok(p.to_string());
    }
    let projects = records::query_all::<Project>(PROJECTS, &[])?;
    match projects.as_slice() {
        [only] => Ok(only.value.id.clone()),
        [] => Err(BoardError::not_found(
            Missing::NoProject,
            "no project exists yet; create one with create_project",
        )),
        // The call is well formed; what the board holds makes it ambiguous, hence 409.
        _ => Err(BoardError::ProjectAmbiguous(
            "project_id is required: several projects exist (see list_projects, or select_project for this session)".into(),
        )),
    }
}

fn session_project(ctx: &ToolCtx) -> Option<String> {
    ctx.session_project.borrow().clone()
}

/// Remembers `project_id` as the session's project (no-op without a session).
pub fn select_for_session(ctx: &ToolCtx, project_id: &str) -> Result<bool, BoardError> {
    let Some(sid) = &ctx.session_id else {
        return Ok(false);
    };
    let stored = crate::mcp::session::update(sid, |record| {
        record.project_id = Some(project_id.to_string());
    })?;
    if stored {
        *ctx.session_project.borrow_mut() = Some(project_id.to_string());
    }
    Ok(stored)
}
