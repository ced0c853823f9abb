//! The error every backend returns; it maps one to one onto the WIT `error` variant.

use std::fmt;

/// A backend failure, classified so the app can answer the right HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CapabilityError {
    /// The addressed item does not exist.
    NotFound(String),
    /// A compare-and-swap precondition failed; nothing was written.
    Conflict(String),
    /// The arguments are malformed.
    Invalid(String),
    /// The backend is down; retrying later may work.
    Unavailable(String),
    /// Anything unexpected.
    Internal(String),
    /// The write would take its tenant past a quota; nothing was written.
    QuotaExceeded(String),
}

impl fmt::Display for CapabilityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotFound(m) => write!(f, "not found: {m}"),
            Self::Conflict(m) => write!(f, "conflict: {m}"),
            Self::Invalid(m) => write!(f, "invalid: {m}"),
            Self::Unavailable(m) => write!(f, "unavailable: {m}"),
            Self::Internal(m) => write!(f, "internal: {m}"),
            Self::QuotaExceeded(m) => write!(f, "quota exceeded: {m}"),
        }
    }
}

impl std::error::Error for CapabilityError {}

/// Shorthand for backend results.
pub type CapResult<T> = Result<T, CapabilityError>;

impl From<marcus_core::store::StoreError> for CapabilityError {
    fn from(e: marcus_core::store::StoreError) -> Self {
        match e {
            marcus_core::store::StoreError::Invalid(m) => Self::Invalid(m),
            marcus_core::store::StoreError::Conflict(m) => Self::Conflict(m),
        }
    }
}
