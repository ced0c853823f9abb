//! Read-only views of the board for people: what the dashboard shows beyond the agents'
//! tools (the whole queue, forecasts, a task's history). Each is a pure computation in the
//! core over records read here.

pub mod analytics;
pub mod queue;
pub mod timeline;

use marcus_core::api_error::ApiError;
use serde_json::{Map, Value};

/// A view: route arguments in, JSON out.
pub struct View {
    /// Computes the view.
    pub run: fn(&Map<String, Value>) -> Result<Value, ApiError>,
}
