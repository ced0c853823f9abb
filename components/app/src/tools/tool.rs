//! What a tool is: its name, description and hints, typed arguments and answer, and the
//! type-erased entry the registry keeps. Every tool module depends on this, never on the
//! registry, so the tools never import each other through it.

use super::hints::Hints;
use super::{parse, schema};
use crate::board_error::BoardError;
use marcus_identity::access::Access;
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
    /// The project the session selected, as read when the request began (the MCP layer
    /// reads the session once per request) and as `select_project` changes it since.
    pub session_project: std::cell::RefCell<Option<String>>,
    /// The agent the session registered as, if any: calls in the session act for it where
    /// they name no agent (a holder reading its task's context keeps its lease).
    pub session_agent: std::cell::RefCell<Option<String>>,
    /// Agents another session took over from this one; calls acting as them are refused.
    pub taken_over: std::cell::RefCell<Vec<String>>,
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
    /// Who may call it (acting as an agent is checked against the `agent_id` argument).
    const ACCESS: Access;
    /// Whether a call about a task by its holder renews the holder's lease (calls that
    /// change the lease themselves, such as progress reports, leave this off).
    const RENEWS_HOLDER: bool = false;
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
    /// Who may call it.
    pub access: Access,
    /// Whether a call by a task's holder renews its lease.
    pub renews_holder: bool,
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
            access: T::ACCESS,
            renews_holder: T::RENEWS_HOLDER,
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
