//! Why a board operation failed, as the code that retries or skips needs to know it: a lost
//! race, a missing record, a refused argument. It becomes the wire error ([`ApiError`]:
//! status, code, message) only where an answer leaves the app (router, MCP, jobs), so no
//! caller decides anything by comparing error code strings.

use crate::bindings::types::Error as PlatformError;
use marcus_core::api_error::ApiError;

/// A failed board operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BoardError {
    /// A compare-and-swap precondition failed: another writer came first and nothing was
    /// written; reading again and retrying may succeed.
    Conflict(String),
    /// Retries kept losing races; the client may ask again in a moment.
    Contention(String),
    /// A record the call names does not exist.
    NotFound(Missing, String),
    /// An argument is malformed or refused (the message names it).
    Invalid(String),
    /// An argument is larger than the board stores.
    TooLarge(String),
    /// The call is well formed, but what the board holds leaves it ambiguous.
    ProjectAmbiguous(String),
    /// Refused with an error already in its wire form: the core's rules (lease fences,
    /// the task graph), storage reads and backend outages. Never inspected, only passed on.
    Refused(ApiError),
}

/// What kind of record was not found; each has its own wire code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// `agent_not_found`.
    Agent,
    /// `task_not_found`.
    Task,
    /// `project_not_found`.
    Project,
    /// `blocker_not_found`.
    Blocker,
    /// `no_project`: the board has no project at all.
    NoProject,
}

impl Missing {
    /// The wire code.
    pub fn code(self) -> &'static str {
        match self {
            Missing::Agent => "agent_not_found",
            Missing::Task => "task_not_found",
            Missing::Project => "project_not_found",
            Missing::Blocker => "blocker_not_found",
            Missing::NoProject => "no_project",
        }
    }
}

impl BoardError {
    /// A record of `kind` is missing.
    pub fn not_found(kind: Missing, message: impl Into<String>) -> Self {
        Self::NotFound(kind, message.into())
    }

    /// An argument is refused.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid(message.into())
    }

    /// A bug or unexpected failure inside the app.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::Refused(ApiError::internal(message))
    }

    /// A storage call's failure: a lost compare-and-swap is [`BoardError::Conflict`],
    /// anything else keeps the platform's wire form.
    pub fn from_platform(error: PlatformError) -> Self {
        match error {
            PlatformError::Conflict(m) => Self::Conflict(m),
            other => Self::Refused(crate::platform_error::to_api(other)),
        }
    }
}

impl From<ApiError> for BoardError {
    fn from(e: ApiError) -> Self {
        Self::Refused(e)
    }
}

impl From<BoardError> for ApiError {
    fn from(e: BoardError) -> Self {
        match e {
            BoardError::Conflict(m) => ApiError::conflict(m),
            BoardError::Contention(m) => ApiError::new(503, "contention", m),
            BoardError::NotFound(kind, m) => ApiError::new(404, kind.code(), m),
            BoardError::Invalid(m) => ApiError::invalid(m),
            BoardError::TooLarge(m) => ApiError::new(413, "artifact_too_large", m),
            BoardError::ProjectAmbiguous(m) => ApiError::new(409, "project_ambiguous", m),
            BoardError::Refused(e) => e,
        }
    }
}
