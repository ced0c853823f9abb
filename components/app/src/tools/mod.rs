//! Board operations, shared by the MCP tools and the JSON API: one [`Tool`] per operation,
//! with typed arguments and a typed answer. The argument and answer types are the
//! contract: `tools/list` and the OpenAPI document publish the JSON Schemas derived from
//! them, and the arguments a call brings are read into them.

pub mod agent_binding;
pub mod agents;
pub mod board_health;
pub mod board_reads;
pub mod failure;
pub mod fields;
pub mod handoff;
pub mod hints;
pub mod knowledge;
pub mod lease_touch;
pub mod parse;
mod ping;
pub mod projects;
mod registry;
pub mod schema;
pub mod scope;
pub mod tool;
pub mod work;

pub use registry::{call, find, registry};
pub use tool::{ToolCtx, ToolSpec};
