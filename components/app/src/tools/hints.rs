//! MCP tool annotations: what a call does to the board, so a client can run reads freely,
//! retry what is safe to retry, and ask a person before what is not. Every tool works on
//! Marcus's own board only, never on the outside world.

use serde_json::{Value, json};

/// A tool's behaviour hints (`readOnlyHint`, `destructiveHint`, `idempotentHint`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hints {
    /// Changes nothing on the board.
    pub read_only: bool,
    /// May take away or replace what is on the board (someone's task, an agent's profile,
    /// a chosen default), rather than only add to it or move the caller's own work on.
    pub destructive: bool,
    /// Repeating the call with the same arguments changes nothing more, so it is safe to
    /// retry after a lost answer.
    pub idempotent: bool,
}

impl Hints {
    /// A read: changes nothing, so any repetition is harmless.
    pub const READ: Hints = Hints {
        read_only: true,
        destructive: false,
        idempotent: true,
    };

    /// A write with the given effects.
    pub const fn write(destructive: bool, idempotent: bool) -> Hints {
        Hints {
            read_only: false,
            destructive,
            idempotent,
        }
    }

    /// The `annotations` object of `tools/list`.
    pub fn annotations(&self) -> Value {
        json!({
            "readOnlyHint": self.read_only,
            "destructiveHint": self.destructive,
            "idempotentHint": self.idempotent,
            "openWorldHint": false,
        })
    }
}
