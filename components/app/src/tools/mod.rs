//! Board operations, shared by the MCP tools and the JSON API: one [`Tool`] per operation,
//! with typed arguments and a typed answer. The argument and answer types are the
//! contract: `tools/list` and the OpenAPI document publish the JSON Schemas derived from
//! them, and the arguments a call brings are read into them.

pub mod agents;
pub mod board_health;
pub mod failure;
pub mod fields;
pub mod hints;
pub mod knowledge;
pub mod parse;
mod ping;
pub mod projects;
pub mod schema;
pub mod scope;
pub mod work;

use crate::board_error::BoardError;
use hints::Hints;
use marcus_core::api_error::ApiError;
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// Who is calling: the MCP session (if any), for session-scoped defaults such as the
/// project chosen with `select_project`.
#[derive(Debug, Clone, Default)]
pub struct ToolCtx {
    /// MCP session id, when called over MCP with a session.
    pub session_id: Option<String>,
}

/// One board operation: its name and description for agents, what it does to the board
/// (its hints), and the typed call.
pub trait Tool {
    /// Upstream Marcus's tool name.
    const NAME: &'static str;
    /// What it is for, shown to agents.
    const DESCRIPTION: &'static str;
    /// What a call does to the board, for clients deciding whether to ask first.
    const HINTS: Hints;
    /// The arguments; their schema is the tool's input schema.
    type Args: DeserializeOwned + JsonSchema;
    /// The answer; its schema is the tool's output schema.
    type Answer: Serialize + JsonSchema;
    /// The operation.
    fn run(ctx: &ToolCtx, args: Self::Args) -> Result<Self::Answer, BoardError>;
}

/// A tool with its types erased, for the registry that MCP and the routes look tools up in.
pub struct ToolSpec {
    /// The tool's name.
    pub name: &'static str,
    /// The tool's description.
    pub description: &'static str,
    /// The tool's hints.
    pub hints: Hints,
    /// JSON Schema of the arguments.
    pub input_schema: fn() -> Value,
    /// JSON Schema of a successful answer.
    pub answer_schema: fn() -> Value,
    /// Reads the arguments, runs the tool, and gives its answer as JSON.
    pub run: fn(&ToolCtx, &Map<String, Value>) -> Result<Value, BoardError>,
}

impl ToolSpec {
    /// The registry entry of `T`.
    pub const fn of<T: Tool>() -> Self {
        Self {
            name: T::NAME,
            description: T::DESCRIPTION,
            hints: T::HINTS,
            input_schema: schema::input::<T::Args>,
            answer_schema: schema::answer::<T::Answer>,
            run: run_typed::<T>,
        }
    }
}

fn run_typed<T: Tool>(ctx: &ToolCtx, args: &Map<String, Value>) -> Result<Value, BoardError> {
    let answer = T::run(ctx, parse::args::<T::Args>(args)?)?;
    serde_json::to_value(answer)
        .map_err(|e| BoardError::internal(format!("encoding the {} answer: {e}", T::NAME)))
}

/// Runs `tool` with `args`, through the read cache for the reads it covers. This is where
/// a tool's failure becomes the wire error that the routes and MCP answer with.
pub fn call(tool: &ToolSpec, ctx: &ToolCtx, args: &Map<String, Value>) -> Result<Value, ApiError> {
    crate::read_cache::through(tool.name, args, || {
        (tool.run)(ctx, args).map_err(ApiError::from)
    })
}

/// Every tool, in the order `tools/list` shows them.
const TOOLS: &[ToolSpec] = &[
    ToolSpec::of::<ping::Ping>(),
    ToolSpec::of::<agents::Register>(),
    ToolSpec::of::<work::RequestNext>(),
    ToolSpec::of::<work::ReportProgress>(),
    ToolSpec::of::<work::ReportBlocker>(),
    ToolSpec::of::<work::ResolveBlocker>(),
    ToolSpec::of::<knowledge::Context>(),
    ToolSpec::of::<knowledge::LogDecision>(),
    ToolSpec::of::<knowledge::LogArtifact>(),
    ToolSpec::of::<projects::CreateProject>(),
    ToolSpec::of::<projects::CreateTasks>(),
    ToolSpec::of::<projects::Status>(),
    ToolSpec::of::<projects::List>(),
    ToolSpec::of::<projects::Select>(),
    ToolSpec::of::<agents::Status>(),
    ToolSpec::of::<agents::List>(),
    ToolSpec::of::<projects::AllTasks>(),
    ToolSpec::of::<knowledge::CheckDependencies>(),
    ToolSpec::of::<work::Unassign>(),
    ToolSpec::of::<board_health::Check>(),
    ToolSpec::of::<board_health::Optimal>(),
];

/// All tools, in the order `tools/list` shows them.
pub fn registry() -> &'static [ToolSpec] {
    TOOLS
}

/// Finds a tool by name.
pub fn find(name: &str) -> Option<&'static ToolSpec> {
    registry().iter().find(|t| t.name == name)
}
