//! Read-only views of the board for people: what the dashboard shows beyond the agents'
//! tools (the whole queue, forecasts, a task's history). Each is a pure computation in the
//! core over records read here.

pub mod analytics;
pub mod queue;
pub mod timeline;

use crate::tools::fields::Id;
use marcus_core::api_error::ApiError;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};

/// A view: route arguments in, JSON out.
pub struct View {
    /// Computes the view.
    pub run: fn(&Map<String, Value>) -> Result<Value, ApiError>,
}

/// The arguments of a project's view: its path's project id.
#[derive(Deserialize, JsonSchema)]
pub struct ProjectPath {
    /// The project.
    pub project_id: Id,
}

/// The arguments of a task's view: its path's task id.
#[derive(Deserialize, JsonSchema)]
pub struct TaskPath {
    /// The task.
    pub task_id: Id,
}
