//! The storage contract, shared by every backend of every host (the native host's SQLite and
//! PostgreSQL, the Spin adapter's): argument checks with the same words, the compare-and-swap
//! rules, the page cursor, and per dialect every statement and the schema. Pure code, so one
//! copy serves native and wasm builds alike.

pub mod audit_sql;
pub mod canonical;
pub mod get_many;
pub mod page;
pub mod postgres_sql;
pub mod read_many;
pub mod rules;
pub mod schema_version;
pub mod sqlite_sql;
pub mod statement;

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

/// A stored document as every store keeps it; `data` is JSON text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// Collection name.
    pub collection: String,
    /// Id within the collection.
    pub id: String,
    /// JSON text.
    pub data: String,
    /// Starts at 1, grows by one per write.
    pub version: u64,
    /// Milliseconds since the Unix epoch.
    pub created_at: u64,
    /// Milliseconds since the Unix epoch.
    pub updated_at: u64,
}

/// One write, borrowed from whichever type a host keeps it in, so the statement builders
/// serve every host without copying documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteRef<'a> {
    /// Collection name.
    pub collection: &'a str,
    /// Document id.
    pub id: &'a str,
    /// JSON text.
    pub data: &'a str,
    /// Precondition.
    pub expect: Expect,
}

/// How an import (a migration between stores) treats a document whose id already exists in
/// the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportMode {
    /// Keep the target's document: identical ones count as skipped, different ones as
    /// conflicts (nothing is written for them).
    Merge,
    /// Replace the target's document with the imported one.
    Overwrite,
}

/// Largest page any query or scan returns.
pub const MAX_PAGE: u32 = 1000;

/// Most keys one `get-many` reads: like a page, one answer stays a bounded size.
pub const MAX_GET_MANY: usize = 1000;

/// Most field combinations a store indexes automatically: each index costs every write, so
/// a client querying ever new fields must not grow them without bound.
pub const MAX_FIELD_INDEXES: usize = 32;
