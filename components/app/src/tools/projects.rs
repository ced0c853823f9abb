//! Project tools.

use crate::records::{self, Versioned, collections::PROJECTS};
use marcus_core::api_error::ApiError;
use marcus_core::board::model::Project;

/// Loads a project or fails with `project_not_found`.
pub fn load(project_id: &str) -> Result<Versioned<Project>, ApiError> {
    records::get::<Project>(PROJECTS, project_id)?.ok_or_else(|| {
        ApiError::new(
            404,
            "project_not_found",
            format!("project {project_id} does not exist"),
        )
    })
}
