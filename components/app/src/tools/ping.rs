//! `ping`: connectivity and server identity check.

use super::fields::Str;
use super::hints::Hints;
use super::tool::{Tool, ToolCtx};
use crate::board_error::BoardError;
use crate::ids::now_ms;
use marcus_core::board::model::PROVIDER;
use marcus_identity::access::Access;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The `ping` tool.
pub struct Ping;

/// `ping(echo?)`.
#[derive(Deserialize, JsonSchema)]
pub struct PingArgs {
    /// Sent back as `echo`.
    echo: Option<Str>,
}

/// Who answered, and when.
#[derive(Serialize, JsonSchema)]
pub struct PingAnswer {
    success: bool,
    /// Always `online`.
    status: &'static str,
    /// Always `marcus`.
    service: &'static str,
    /// Who keeps the boards: always `marcus` ([`PROVIDER`]; upstream names its kanban
    /// service).
    provider: &'static str,
    /// The server's version.
    version: &'static str,
    /// The `echo` argument, empty without one.
    echo: String,
    /// Server time, milliseconds since the Unix epoch.
    timestamp: u64,
}

impl Tool for Ping {
    const NAME: &'static str = "ping";
    const DESCRIPTION: &'static str = "Check that Marcus is reachable; echoes an optional message.";
    const HINTS: Hints = Hints::READ;
    const ACCESS: Access = Access::Read;
    type Args = PingArgs;
    type Answer = PingAnswer;

    fn run(_ctx: &ToolCtx, args: PingArgs) -> Result<PingAnswer, BoardError> {
        Ok(PingAnswer {
            success: true,
            status: "online",
            service: "marcus",
            provider: PROVIDER,
            version: env!("CARGO_PKG_VERSION"),
            echo: args.echo.map(|e| e.0).unwrap_or_default(),
            timestamp: now_ms(),
        })
    }
}
