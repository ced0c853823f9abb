//! The storage capability: versioned JSON documents with compare-and-swap.
//!
//! Callers (the WIT glue, `migrate`) only see [`StorageBackend`]; each backend lives in its
//! own file and is chosen at start from the environment.

pub mod metered;
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

/// How an import treats a document whose id already exists in the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportMode {
    /// Keep the target's document: identical ones count as skipped, different ones as
    /// conflicts (nothing is written for them).
    Merge,
    /// Replace the target's document with the imported one.
    Overwrite,
}

/// What one import batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportOutcome {
    /// Documents written.
    pub written: u64,
    /// Documents already present and identical.
    pub skipped: u64,
    /// Ids present with different content (merge mode only).
    pub conflicts: Vec<String>,
}

/// Whether two stored documents carry the same content, whatever the JSON formatting each
/// store applied (key order, spacing, number notation).
pub fn same_document(a: &Document, b: &Document) -> bool {
    a.version == b.version
        && a.created_at == b.created_at
        && a.updated_at == b.updated_at
        && canonical_json(&a.data) == canonical_json(&b.data)
}

/// One canonical text per JSON value: object keys sorted, no spaces, integral numbers
/// written as integers. Both stores' copies of a document give the same text, which is what
/// migration checksums and comparisons rely on.
pub fn canonical_json(text: &str) -> String {
    fn normalize(v: serde_json::Value) -> serde_json::Value {
        use serde_json::Value;
        match v {
            Value::Number(n) => match n.as_f64() {
                Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 9.0e15 => {
                    Value::from(f as i64)
                }
                _ => Value::Number(n),
            },
            Value::Array(items) => Value::Array(items.into_iter().map(normalize).collect()),
            Value::Object(map) => {
                let sorted: std::collections::BTreeMap<String, Value> =
                    map.into_iter().map(|(k, v)| (k, normalize(v))).collect();
                Value::Object(sorted.into_iter().collect())
            }
            other => other,
        }
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) => normalize(v).to_string(),
        Err(_) => text.to_string(),
    }
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
    /// Writes documents exactly as given (versions and timestamps kept) in one round trip,
    /// for migration between stores.
    async fn import(&self, docs: &[Document], mode: ImportMode) -> CapResult<ImportOutcome>;
    /// Reads an entry of the store's own metadata table.
    async fn meta(&self, key: &str) -> CapResult<Option<String>>;
    /// Sets (or with `None` removes) an entry of the store's metadata table.
    async fn set_meta(&self, key: &str, value: Option<&str>) -> CapResult<()>;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_ignores_formatting_only() {
        assert_eq!(
            canonical_json(r#"{"b": 1, "a": [1.0, 2.5, {"d": null, "c": "x"}]}"#),
            r#"{"a":[1,2.5,{"c":"x","d":null}],"b":1}"#
        );
        assert_eq!(canonical_json("1e2"), canonical_json("100"));
        assert_ne!(
            canonical_json(r#"{"a": "1"}"#),
            canonical_json(r#"{"a": 1}"#)
        );
    }
}
