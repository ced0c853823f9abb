//! The storage capability: versioned JSON documents with compare-and-swap.
//!
//! Callers (the WIT glue, `migrate`) only see [`StorageBackend`]; each backend lives in its
//! own file and is chosen at start from the environment.

pub mod metered;
pub mod postgres;
pub mod sqlite;

use crate::backend_status::BackendStatus;
use crate::capability_error::CapResult;

/// A stored document; `data` is JSON text (the contract's own type, shared by every host).
pub use marcus_core::store::Document;

/// A write precondition (the contract's own type, shared by every host).
pub use marcus_core::store::Expect;

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

impl Write {
    /// The write as the shared statement builders take it.
    pub fn borrowed(&self) -> WriteRef<'_> {
        WriteRef {
            collection: &self.collection,
            id: &self.id,
            data: &self.data,
            expect: self.expect,
        }
    }
}

pub use marcus_core::store::WriteRef;

/// The address of one document, for [`StorageBackend::get_many`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DocumentKey {
    /// Collection name.
    pub collection: String,
    /// Document id.
    pub id: String,
}

/// `keys` as the one JSON parameter of the dialects' `get_many` statements.
pub fn keys_json(keys: &[DocumentKey]) -> String {
    marcus_core::store::get_many::keys_json(
        keys.iter().map(|k| (k.collection.as_str(), k.id.as_str())),
    )
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

/// A tenant's totals, for dashboards and its stored-data quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageStats {
    /// Number of documents.
    pub documents: u64,
    /// Bytes of their data.
    pub size_bytes: u64,
}

/// One removal of an audited [`StorageBackend::change`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    /// Collection name.
    pub collection: String,
    /// Document id.
    pub id: String,
    /// Remove only at this version (a mismatch is a conflict and nothing is written).
    pub expected: Option<u64>,
}

/// What an audited change stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    /// The documents written, in the order given.
    pub documents: Vec<Document>,
    /// For each removal, whether the document was there.
    pub removed: Vec<bool>,
    /// The audit record's place in its tenant's chain.
    pub seq: u64,
}

/// The head of one tenant's audit chain and its last checkpoint, for the checkpointer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    /// The tenant.
    pub tenant: String,
    /// Its last record's sequence number.
    pub seq: u64,
    /// Its last record's hash.
    pub hash: String,
    /// The sequence number its last checkpoint vouches for (0 for none).
    pub checkpointed: u64,
    /// Its last checkpoint's signature (empty for none).
    pub last_signature: String,
}

pub use marcus_core::audit::{AuditFilter, Entry as AuditEntry, SignedCheckpoint, StoredRecord};

/// The scope an audited change may be written in for `record`: its own tenant's, or the
/// server scope (the installation's records about a tenant, such as its tokens).
pub fn check_audit_scope(scope: &str, record: &AuditEntry) -> CapResult<()> {
    if scope == record.tenant || scope == marcus_identity::tenant::SERVER_SCOPE {
        Ok(())
    } else {
        Err(crate::capability_error::CapabilityError::Invalid(format!(
            "an audit record of tenant {:?} cannot be written in scope {scope:?}",
            record.tenant
        )))
    }
}

/// How an import treats a document whose id already exists in the target.
pub use marcus_core::store::ImportMode;

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

pub use marcus_core::store::canonical::canonical_json;

/// A storage backend. Every method is atomic; writes honour their preconditions exactly.
/// Every document method works inside one tenant's scope (a tenant name, or the server
/// scope of the installation's own records), which the caller establishes from the
/// request's verified principal: no method reads or writes outside the scope it is given.
#[async_trait::async_trait]
pub trait StorageBackend: Send + Sync {
    /// Name and health, for capability reports.
    async fn status(&self) -> BackendStatus;
    /// Reads one document.
    async fn get(&self, tenant: &str, collection: &str, id: &str) -> CapResult<Option<Document>>;
    /// Reads several documents in one statement: one entry per key, in key order, `None`
    /// where [`get`](Self::get) would answer none; at most `MAX_GET_MANY` keys.
    async fn get_many(
        &self,
        tenant: &str,
        keys: &[DocumentKey],
    ) -> CapResult<Vec<Option<Document>>>;
    /// Writes one document under a precondition.
    async fn put(
        &self,
        tenant: &str,
        collection: &str,
        id: &str,
        data: &str,
        expect: Expect,
    ) -> CapResult<Document>;
    /// Writes all or nothing.
    async fn put_many(&self, tenant: &str, writes: &[Write]) -> CapResult<Vec<Document>>;
    /// Deletes; false when absent.
    async fn delete(
        &self,
        tenant: &str,
        collection: &str,
        id: &str,
        expected: Option<u64>,
    ) -> CapResult<bool>;
    /// Equality query in id order after `cursor`.
    async fn query(
        &self,
        tenant: &str,
        collection: &str,
        filters: &[FieldFilter],
        limit: u32,
        cursor: Option<&str>,
    ) -> CapResult<Page>;
    /// Counts matching documents.
    async fn count(
        &self,
        tenant: &str,
        collection: &str,
        filters: &[FieldFilter],
    ) -> CapResult<u64>;
    /// The tenant's non-empty collections, sorted.
    async fn list_collections(&self, tenant: &str) -> CapResult<Vec<String>>;
    /// Documents in id order strictly after `after`.
    async fn scan(
        &self,
        tenant: &str,
        collection: &str,
        after: Option<&str>,
        limit: u32,
    ) -> CapResult<Vec<Document>>;
    /// The tenant's totals: its documents and the bytes of their data.
    async fn stats(&self, tenant: &str) -> CapResult<StorageStats>;
    /// Writes documents exactly as given (versions and timestamps kept) in one round trip,
    /// for migration between stores.
    async fn import(
        &self,
        tenant: &str,
        docs: &[Document],
        mode: ImportMode,
    ) -> CapResult<ImportOutcome>;
    /// Writes `writes` and removes `removals`, all or nothing, and appends `record` to its
    /// tenant's audit chain in the same transaction: a stored change always has its record,
    /// and with no writes or removals the record is stored alone (a refusal, a sign-in).
    /// `tenant` is the scope the documents live in (see [`check_audit_scope`]).
    async fn change(
        &self,
        tenant: &str,
        writes: &[Write],
        removals: &[Removal],
        record: &AuditEntry,
    ) -> CapResult<Changed>;
    /// A page of `tenant`'s audit records matching `filter`, newest first.
    async fn audit_list(&self, tenant: &str, filter: &AuditFilter) -> CapResult<Vec<StoredRecord>>;
    /// Up to `limit` of `tenant`'s audit records after `after_seq` and at or after `since`
    /// (ms), oldest first.
    async fn audit_scan(
        &self,
        tenant: &str,
        after_seq: u64,
        since: u64,
        limit: u32,
    ) -> CapResult<Vec<StoredRecord>>;
    /// Every tenant with an audit record or checkpoint, sorted.
    async fn audit_tenants(&self) -> CapResult<Vec<String>>;
    /// `tenant`'s signed checkpoints, oldest first.
    async fn audit_checkpoints(&self, tenant: &str) -> CapResult<Vec<SignedCheckpoint>>;
    /// `tenant`'s chain head and last checkpoint; none for an empty chain.
    async fn audit_head(&self, tenant: &str) -> CapResult<Option<ChainHead>>;
    /// Stores a checkpoint; false when one was already stored at its place.
    async fn audit_add_checkpoint(&self, checkpoint: &SignedCheckpoint) -> CapResult<bool>;
    /// Removes `tenant`'s records before `before_seq` that lie behind its last checkpoint;
    /// how many went.
    async fn audit_prune(&self, tenant: &str, before_seq: u64) -> CapResult<u64>;
    /// Reads an entry of the store's own metadata table.
    async fn meta(&self, key: &str) -> CapResult<Option<String>>;
    /// Sets (or with `None` removes) an entry of the store's metadata table.
    async fn set_meta(&self, key: &str, value: Option<&str>) -> CapResult<()>;
    /// Flushes and closes cleanly at shutdown.
    async fn close(&self);
}

/// The scopes the store's upgrades place documents in (see `marcus_identity::tenant`).
pub fn scopes() -> marcus_core::store::schema_version::Scopes<'static> {
    use marcus_identity::tenant;
    marcus_core::store::schema_version::Scopes {
        server_collections: &tenant::SERVER_COLLECTIONS,
        server_scope: tenant::SERVER_SCOPE,
        default_tenant: tenant::DEFAULT_TENANT,
    }
}

pub use marcus_core::store::MAX_PAGE;

/// What a store holds, read without changing it (for `marcus doctor`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    /// Where it is, without credentials.
    pub location: String,
    /// Whether Marcus's tables are there.
    pub has_tables: bool,
    /// The schema version recorded in them, if any.
    pub schema_version: Option<i64>,
    /// The database engine's version.
    pub engine_version: String,
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Every document of `collection` in `scope` that matches `filters`, page after page (for
/// the installation's own small collections: tokens, tenants, bindings, sessions).
pub async fn all_matching(
    storage: &dyn StorageBackend,
    scope: &str,
    collection: &str,
    filters: &[FieldFilter],
) -> CapResult<Vec<Document>> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = storage
            .query(scope, collection, filters, MAX_PAGE, cursor.as_deref())
            .await?;
        out.extend(page.documents);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(out),
        }
    }
}

/// Every document of `collection` in `scope`.
pub async fn all_documents(
    storage: &dyn StorageBackend,
    scope: &str,
    collection: &str,
) -> CapResult<Vec<Document>> {
    all_matching(storage, scope, collection, &[]).await
}

/// Filters as `(field, JSON value)` pairs, the shape the shared SQL builders take.
pub fn filter_pairs(filters: &[FieldFilter]) -> Vec<(&str, &str)> {
    filters
        .iter()
        .map(|f| (f.field.as_str(), f.value.as_str()))
        .collect()
}
