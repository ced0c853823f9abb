//! The names of the MCP prompts, apart from their texts, so the tools that point agents to a
//! prompt name it without depending on the prompts (which read the tools' schemas).

/// The agent protocol.
pub const AGENT: &str = "marcus_agent";
/// The planning prompt.
pub const PLAN: &str = "plan_project";
