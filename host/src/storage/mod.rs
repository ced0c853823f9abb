//! The storage capability: versioned JSON documents with compare-and-swap.
//!
//! Callers (the WIT glue, `migrate`) only see [`StorageBackend`]; each backend lives in its
//! own file and is chosen at start from the environment.

pub mod postgres;
pub mod sqlite;

use crate::backend_status::BackendStatus;
use crate::capability_error::{CapResult, CapabilityError};

/// A stored document; `data` is JSON text.
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

/// One write of an atomic batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    /// Collection name.
    pub collection: String,
    /// Document id.
    pub id: String,
    /// JSON text.
    pub data: String,
    /// Precondition.
    pub expect: Expect,
}

/// Equality on a top-level field; `value` is JSON text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldFilter {
    /// Top-level field name.
    pub field: String,
    /// JSON text of the value to match.
    pub value: String,
}

/// A page of documents in id order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The documents.
    pub documents: Vec<Document>,
    /// Id to pass as cursor for the next page, when more may follow.
    pub next_cursor: Option<String>,
}

/// Totals for dashboards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageStats {
    /// Number of documents.
    pub documents: u64,
    /// Bytes used by the store.
    pub size_bytes: u64,
}

/// A storage backend. Every method is atomic; writes honour their preconditions exactly.
#[async_trait::async_trait]
pub trait StorageBackend: Send + Sync {
    /// Name and health, for capability reports.
    async fn status(&self) -> BackendStatus;
    /// Reads one document.
    async fn get(&self, collection: &str, id: &str) -> CapResult<Option<Document>>;
    /// Writes one document under a precondition.
    async fn put(
        &self,
        collection: &str,
        id: &str,
        data: &str,
        expect: Expect,
    ) -> CapResult<Document>;
    /// Writes all or nothing.
    async fn put_many(&self, writes: &[Write]) -> CapResult<Vec<Document>>;
    /// Deletes; false when absent.
    async fn delete(&self, collection: &str, id: &str, expected: Option<u64>) -> CapResult<bool>;
    /// Equality query in id order after `cursor`.
    async fn query(
        &self,
        collection: &str,
        filters: &[FieldFilter],
        limit: u32,
        cursor: Option<&str>,
    ) -> CapResult<Page>;
    /// Counts matching documents.
    async fn count(&self, collection: &str, filters: &[FieldFilter]) -> CapResult<u64>;
    /// Non-empty collections, sorted.
    async fn list_collections(&self) -> CapResult<Vec<String>>;
    /// Documents in id order strictly after `after`.
    async fn scan(
        &self,
        collection: &str,
        after: Option<&str>,
        limit: u32,
    ) -> CapResult<Vec<Document>>;
    /// Totals.
    async fn stats(&self) -> CapResult<StorageStats>;
    /// Flushes and closes cleanly at shutdown.
    async fn close(&self);
}

/// Largest page any query or scan returns.
pub const MAX_PAGE: u32 = 1000;

/// Shared argument checks, so every backend refuses the same inputs with the same words.
pub fn check_json(data: &str) -> CapResult<()> {
    serde_json::from_str::<serde::de::IgnoredAny>(data)
        .map(|_| ())
        .map_err(|e| CapabilityError::Invalid(format!("document data is not valid JSON: {e}")))
}

/// Field names in filters: letters, digits, `_` and `-`.
pub fn check_field(field: &str) -> CapResult<()> {
    if field.is_empty()
        || field.len() > 200
        || !field
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(CapabilityError::Invalid(format!(
            "filter field {field:?} must be 1-200 letters, digits, _ or -"
        )));
    }
    Ok(())
}

/// Collection names and ids: non-empty, at most 200 bytes.
pub fn check_key(kind: &str, value: &str) -> CapResult<()> {
    if value.is_empty() || value.len() > 200 {
        return Err(CapabilityError::Invalid(format!(
            "{kind} must be 1-200 bytes long"
        )));
    }
    Ok(())
}

/// Page size bounds.
pub fn check_limit(limit: u32) -> CapResult<()> {
    if limit == 0 || limit > MAX_PAGE {
        return Err(CapabilityError::Invalid(format!(
            "limit must be from 1 to {MAX_PAGE}, got {limit}"
        )));
    }
    Ok(())
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Checks a precondition against the current version (`None` = absent).
pub fn check_expect(
    collection: &str,
    id: &str,
    expect: Expect,
    current: Option<u64>,
) -> CapResult<()> {
    match (expect, current) {
        (Expect::Any, _) => Ok(()),
        (Expect::Absent, None) => Ok(()),
        (Expect::Absent, Some(v)) => Err(CapabilityError::Conflict(format!(
            "{collection}/{id} already exists (version {v})"
        ))),
        (Expect::Version(want), Some(have)) if want == have => Ok(()),
        (Expect::Version(want), Some(have)) => Err(CapabilityError::Conflict(format!(
            "{collection}/{id} is at version {have}, not {want}"
        ))),
        (Expect::Version(want), None) => Err(CapabilityError::Conflict(format!(
            "{collection}/{id} does not exist (expected version {want})"
        ))),
    }
}
