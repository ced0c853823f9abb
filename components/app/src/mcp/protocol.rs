//! The MCP protocol versions this server speaks, shared by the handshake and the sessions
//! that remember what each client negotiated.

/// The newest protocol version, offered when the client asks for one we do not know.
pub const LATEST_PROTOCOL: &str = "2025-06-18";
/// Every protocol version this server speaks.
pub const SUPPORTED_PROTOCOLS: &[&str] = &["2025-06-18", "2025-03-26", "2024-11-05"];
