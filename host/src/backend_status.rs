//! How a backend describes itself in capability reports.

/// Name, health and detail of one backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendStatus {
    /// sqlite, postgres, memory, redis, in-process, ...
    pub name: String,
    /// Whether it works right now.
    pub healthy: bool,
    /// Location or last error, without credentials.
    pub detail: String,
}

impl BackendStatus {
    /// A healthy backend.
    pub fn healthy(name: &str, detail: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            healthy: true,
            detail: detail.into(),
        }
    }
}
