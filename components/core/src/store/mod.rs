//! The storage contract's rules, shared by every backend of every host (the native host's
//! SQLite and PostgreSQL, the Spin adapter's): argument checks with the same words, the
//! compare-and-swap precondition, equality filters as SQL, and the page cursor. Pure code, so
//! one copy serves native and wasm builds alike.

pub mod canonical;
pub mod page;
pub mod postgres_sql;
pub mod rules;
pub mod sqlite_sql;

/// Why a storage request is refused before or instead of being carried out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// The arguments are malformed.
    Invalid(String),
    /// A compare-and-swap precondition failed.
    Conflict(String),
}

/// A write precondition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// No precondition.
    Any,
    /// Must not exist.
    Absent,
    /// Must exist at this version.
    Version(u64),
}

/// Largest page any query or scan returns.
pub const MAX_PAGE: u32 = 1000;
