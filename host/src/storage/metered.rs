//! A storage backend wrapper that records each operation's latency and outcome (by backend
//! and operation) and every failed compare-and-swap, whatever the backend behind it.

use super::{
    AuditEntry, AuditFilter, ChainHead, Changed, Document, DocumentKey, Expect, FieldFilter,
    ImportMode, ImportOutcome, Page, Removal, SignedCheckpoint, StorageBackend, StorageStats,
    StoredRecord, Write,
};
use crate::backend_status::BackendStatus;
use crate::capability_error::{CapResult, CapabilityError};
use std::sync::Arc;
use std::time::Instant;

/// Measures `inner`.
pub struct MeteredStorage {
    inner: Arc<dyn StorageBackend>,
    backend: &'static str,
}

impl MeteredStorage {
    /// Wraps `inner`, labelled `backend` (sqlite, postgres).
    pub fn new(inner: Arc<dyn StorageBackend>, backend: &'static str) -> Self {
        Self { inner, backend }
    }

    fn record<T>(&self, operation: &'static str, started: Instant, result: &CapResult<T>) {
        metrics::histogram!(
            "marcus_storage_operation_duration_seconds",
            "backend" => self.backend,
            "operation" => operation
        )
        .record(started.elapsed().as_secs_f64());
        if let Err(e) = result {
            let kind = match e {
                CapabilityError::NotFound(_) => "not_found",
                CapabilityError::Conflict(_) => "conflict",
                CapabilityError::Invalid(_) => "invalid",
                CapabilityError::Unavailable(_) => "unavailable",
                CapabilityError::Internal(_) => "internal",
                CapabilityError::QuotaExceeded(_) => "quota_exceeded",
            };
            metrics::counter!(
                "marcus_storage_errors_total",
                "backend" => self.backend,
                "operation" => operation,
                "kind" => kind
            )
            .increment(1);
            if kind == "conflict" {
                metrics::counter!("marcus_storage_cas_conflicts_total", "backend" => self.backend)
                    .increment(1);
            }
        }
    }
}

macro_rules! timed {
    ($self:ident, $op:literal, $call:expr) => {{
        let started = Instant::now();
        let result = $call.await;
        $self.record($op, started, &result);
        result
    }};
}

#[async_trait::async_trait]
impl StorageBackend for MeteredStorage {
    async fn status(&self) -> BackendStatus {
        self.inner.status().await
    }

    async fn get(&self, tenant: &str, collection: &str, id: &str) -> CapResult<Option<Document>> {
        timed!(self, "get", self.inner.get(tenant, collection, id))
    }

    async fn get_many(
        &self,
        tenant: &str,
        keys: &[DocumentKey],
    ) -> CapResult<Vec<Option<Document>>> {
        timed!(self, "get_many", self.inner.get_many(tenant, keys))
    }

    async fn put(
        &self,
        tenant: &str,
        collection: &str,
        id: &str,
        data: &str,
        expect: Expect,
    ) -> CapResult<Document> {
        timed!(
            self,
            "put",
            self.inner.put(tenant, collection, id, data, expect)
        )
    }

    async fn put_many(&self, tenant: &str, writes: &[Write]) -> CapResult<Vec<Document>> {
        timed!(self, "put_many", self.inner.put_many(tenant, writes))
    }

    async fn delete(
        &self,
        tenant: &str,
        collection: &str,
        id: &str,
        expected: Option<u64>,
    ) -> CapResult<bool> {
        timed!(
            self,
            "delete",
            self.inner.delete(tenant, collection, id, expected)
        )
    }

    async fn query(
        &self,
        tenant: &str,
        collection: &str,
        filters: &[FieldFilter],
        limit: u32,
        cursor: Option<&str>,
    ) -> CapResult<Page> {
        timed!(
            self,
            "query",
            self.inner.query(tenant, collection, filters, limit, cursor)
        )
    }

    async fn count(
        &self,
        tenant: &str,
        collection: &str,
        filters: &[FieldFilter],
    ) -> CapResult<u64> {
        timed!(self, "count", self.inner.count(tenant, collection, filters))
    }

    async fn list_collections(&self, tenant: &str) -> CapResult<Vec<String>> {
        timed!(
            self,
            "list_collections",
            self.inner.list_collections(tenant)
        )
    }

    async fn scan(
        &self,
        tenant: &str,
        collection: &str,
        after: Option<&str>,
        limit: u32,
    ) -> CapResult<Vec<Document>> {
        timed!(
            self,
            "scan",
            self.inner.scan(tenant, collection, after, limit)
        )
    }

    async fn stats(&self, tenant: &str) -> CapResult<StorageStats> {
        timed!(self, "stats", self.inner.stats(tenant))
    }

    async fn import(
        &self,
        tenant: &str,
        docs: &[Document],
        mode: ImportMode,
    ) -> CapResult<ImportOutcome> {
        timed!(self, "import", self.inner.import(tenant, docs, mode))
    }

    async fn change(
        &self,
        tenant: &str,
        writes: &[Write],
        removals: &[Removal],
        record: &AuditEntry,
    ) -> CapResult<Changed> {
        timed!(
            self,
            "change",
            self.inner.change(tenant, writes, removals, record)
        )
    }

    async fn audit_list(&self, tenant: &str, filter: &AuditFilter) -> CapResult<Vec<StoredRecord>> {
        timed!(self, "audit_list", self.inner.audit_list(tenant, filter))
    }

    async fn audit_scan(
        &self,
        tenant: &str,
        after_seq: u64,
        since: u64,
        limit: u32,
    ) -> CapResult<Vec<StoredRecord>> {
        timed!(
            self,
            "audit_scan",
            self.inner.audit_scan(tenant, after_seq, since, limit)
        )
    }

    async fn audit_tenants(&self) -> CapResult<Vec<String>> {
        timed!(self, "audit_tenants", self.inner.audit_tenants())
    }

    async fn audit_checkpoints(&self, tenant: &str) -> CapResult<Vec<SignedCheckpoint>> {
        timed!(
            self,
            "audit_checkpoints",
            self.inner.audit_checkpoints(tenant)
        )
    }

    async fn audit_head(&self, tenant: &str) -> CapResult<Option<ChainHead>> {
        timed!(self, "audit_head", self.inner.audit_head(tenant))
    }

    async fn audit_add_checkpoint(&self, checkpoint: &SignedCheckpoint) -> CapResult<bool> {
        timed!(
            self,
            "audit_add_checkpoint",
            self.inner.audit_add_checkpoint(checkpoint)
        )
    }

    async fn audit_prune(&self, tenant: &str, before_seq: u64) -> CapResult<u64> {
        timed!(
            self,
            "audit_prune",
            self.inner.audit_prune(tenant, before_seq)
        )
    }

    async fn meta(&self, key: &str) -> CapResult<Option<String>> {
        timed!(self, "meta", self.inner.meta(key))
    }

    async fn set_meta(&self, key: &str, value: Option<&str>) -> CapResult<()> {
        timed!(self, "set_meta", self.inner.set_meta(key, value))
    }

    async fn close(&self) {
        self.inner.close().await
    }
}
