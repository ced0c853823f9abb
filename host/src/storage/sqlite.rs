//! SQLite storage: the solo tier's zero-configuration backend.
//!
//! One writer connection (SQLite allows one writer at a time) and a few reader
//! connections in WAL mode, so reads never wait for writes.

use super::{
    AuditEntry, AuditFilter, ChainHead, Changed, Document, DocumentKey, Expect, FieldFilter,
    ImportMode, ImportOutcome, Page, Removal, SignedCheckpoint, StorageBackend, StorageStats,
    StoredRecord, Write, check_audit_scope, filter_pairs, now_ms, same_document,
};
use crate::backend_status::BackendStatus;
use crate::capability_error::{CapResult, CapabilityError};
use marcus_core::audit::{Checkpoint, GENESIS};
use marcus_core::store::audit_sql::{self, Dialect::Sqlite};
use marcus_core::store::page::finish_page;
use marcus_core::store::sqlite_sql::{documents, field_indexes, schema};
use marcus_core::store::statement::{SqlValue, Statement};
use marcus_core::store::{MAX_FIELD_INDEXES, get_many, rules, schema_version};
use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, Transaction, params_from_iter};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// How hard a commit waits for the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SyncMode {
    /// WAL with `synchronous=NORMAL`: an acknowledged write survives a crash or kill of
    /// the process; a power loss may drop the last commits. Several times faster.
    Normal,
    /// `synchronous=FULL`: every commit is on disk before it is acknowledged.
    Full,
}

impl SyncMode {
    fn pragma(self) -> &'static str {
        match self {
            Self::Normal => "NORMAL",
            Self::Full => "FULL",
        }
    }
}

const READERS: usize = 4;

/// The SQLite backend.
pub struct SqliteStorage {
    path: PathBuf,
    writer: Mutex<Option<Connection>>,
    readers: Vec<Mutex<Option<Connection>>>,
    next_reader: AtomicUsize,
    indexed_fields: Mutex<std::collections::HashSet<String>>,
}

fn internal(e: rusqlite::Error) -> CapabilityError {
    CapabilityError::Internal(format!("sqlite: {e}"))
}

fn closed() -> CapabilityError {
    CapabilityError::Unavailable("sqlite storage is closed".into())
}

impl SqliteStorage {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path, sync: SyncMode) -> anyhow::Result<Self> {
        let mut writer = Connection::open(path)?;
        writer.busy_timeout(std::time::Duration::from_secs(5))?;
        writer.pragma_update(None, "journal_mode", "WAL")?;
        writer.pragma_update(None, "synchronous", sync.pragma())?;
        migrate_schema(&mut writer)?;
        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let r = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            r.busy_timeout(std::time::Duration::from_secs(5))?;
            readers.push(Mutex::new(Some(r)));
        }
        Ok(Self {
            path: path.to_path_buf(),
            writer: Mutex::new(Some(writer)),
            readers,
            next_reader: AtomicUsize::new(0),
            indexed_fields: Mutex::new(Default::default()),
        })
    }

    /// Opens a database that must already be a Marcus database (a migration source): a
    /// missing file, a file that is not SQLite, or one without Marcus's tables is an error
    /// saying so, and nothing is created.
    pub fn open_existing(path: &Path) -> anyhow::Result<Self> {
        if !path.is_file() {
            anyhow::bail!("{} does not exist", path.display());
        }
        let probe = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        let tables: Vec<String> = probe
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
            .and_then(|mut st| {
                st.query_map([], |r| r.get::<_, String>(0))?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(|e| anyhow::anyhow!("{} is not a Marcus database: {e}", path.display()))?;
        if !tables.iter().any(|t| t == "documents") || !tables.iter().any(|t| t == "marcus_meta") {
            anyhow::bail!(
                "{} is not a Marcus database (no documents and marcus_meta tables)",
                path.display()
            );
        }
        let integrity: String = probe
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(|e| anyhow::anyhow!("{} is damaged: {e}", path.display()))?;
        if integrity != "ok" {
            anyhow::bail!("{} is damaged: {integrity}", path.display());
        }
        drop(probe);
        Self::open(path, SyncMode::Normal)
    }

    /// Reads what the file at `path` holds through a read-only connection: Marcus's tables,
    /// the schema version, and whether SQLite finds it intact. Nothing is created or changed.
    pub fn inspect(path: &Path) -> anyhow::Result<super::Inspection> {
        if !path.is_file() {
            anyhow::bail!("{} does not exist", path.display());
        }
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let tables: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
            .and_then(|mut st| {
                st.query_map([], |r| r.get::<_, String>(0))?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(|e| anyhow::anyhow!("{} is not a SQLite database: {e}", path.display()))?;
        let integrity: String = conn
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(|e| anyhow::anyhow!("{} is damaged: {e}", path.display()))?;
        if integrity != "ok" {
            anyhow::bail!("{} is damaged: {integrity}", path.display());
        }
        let has_tables =
            tables.iter().any(|t| t == "documents") && tables.iter().any(|t| t == "marcus_meta");
        let recorded: Option<String> = if tables.iter().any(|t| t == "marcus_meta") {
            first(&conn, &schema::read_schema_version(), |r| r.get(0))?
        } else {
            None
        };
        Ok(super::Inspection {
            location: path.display().to_string(),
            has_tables,
            schema_version: schema_version::recorded(recorded.as_deref()),
            engine_version: rusqlite::version().to_string(),
        })
    }

    /// Where the database file lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> CapResult<T> {
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        for i in 0..self.readers.len() {
            if let Ok(guard) = self.readers[(start + i) % self.readers.len()].try_lock() {
                let conn = guard.as_ref().ok_or_else(closed)?;
                return f(conn).map_err(internal);
            }
        }
        let guard = self.readers[start % self.readers.len()]
            .lock()
            .map_err(|_| CapabilityError::Internal("sqlite reader lock poisoned".into()))?;
        let conn = guard.as_ref().ok_or_else(closed)?;
        f(conn).map_err(internal)
    }

    fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> CapResult<T>) -> CapResult<T> {
        let mut guard = self
            .writer
            .lock()
            .map_err(|_| CapabilityError::Internal("sqlite writer lock poisoned".into()))?;
        let conn = guard.as_mut().ok_or_else(closed)?;
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(internal)?;
        let value = f(&tx)?;
        tx.commit().map_err(internal)?;
        Ok(value)
    }
}

/// Creates the tables or upgrades them; refuses a database from a newer Marcus.
/// Creates the tables or upgrades them in one transaction (a schema-1 board becomes the
/// default tenant's); refuses a database from a newer Marcus.
fn migrate_schema(conn: &mut Connection) -> anyhow::Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    tx.execute_batch(schema::META_TABLE)?;
    let recorded: Option<String> = first(&tx, &schema::read_schema_version(), |r| r.get(0))?;
    let recorded = schema_version::recorded(recorded.as_deref());
    schema_version::refuse_newer(recorded).map_err(anyhow::Error::msg)?;
    for statement in schema::upgrade(recorded, super::scopes()) {
        run(&tx, &statement)?;
    }
    tx.commit()?;
    Ok(())
}

/// A shared statement's parameters as rusqlite values: the one conversion from the storage
/// contract's values to rusqlite's, also used by the benchmark's native baseline.
pub fn bound(statement: &Statement) -> rusqlite::ParamsFromIter<Vec<Value>> {
    params_from_iter(
        statement
            .params
            .iter()
            .map(|p| match p {
                SqlValue::Integer(i) => Value::Integer(*i),
                SqlValue::Real(r) => Value::Real(*r),
                SqlValue::Text(t) => Value::Text(t.clone()),
            })
            .collect(),
    )
}

/// Runs a statement that returns no rows; the number of rows it changed.
fn run(conn: &Connection, statement: &Statement) -> rusqlite::Result<usize> {
    conn.prepare_cached(&statement.sql)?
        .execute(bound(statement))
}

/// The first row of a statement (a read, or a write's `RETURNING`), if any.
fn first<T>(
    conn: &Connection,
    statement: &Statement,
    map: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<Option<T>> {
    conn.prepare_cached(&statement.sql)?
        .query_row(bound(statement), map)
        .optional()
}

/// Every row of a statement.
fn all<T>(
    conn: &Connection,
    statement: &Statement,
    map: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<Vec<T>> {
    conn.prepare_cached(&statement.sql)?
        .query_map(bound(statement), map)?
        .collect()
}

/// A row of [`documents::COLUMNS`].
fn row_to_document(row: &Row<'_>) -> rusqlite::Result<Document> {
    Ok(Document {
        collection: row.get(0)?,
        id: row.get(1)?,
        data: row.get(2)?,
        version: row.get::<_, i64>(3)? as u64,
        created_at: row.get::<_, i64>(4)? as u64,
        updated_at: row.get::<_, i64>(5)? as u64,
    })
}

/// A document's current version, for the conflict message of a write that changed nothing.
fn version_of(
    conn: &Connection,
    tenant: &str,
    collection: &str,
    id: &str,
) -> CapResult<Option<u64>> {
    first(conn, &documents::version_of(tenant, collection, id), |r| {
        r.get::<_, i64>(0)
    })
    .map(|v| v.map(|v| v as u64))
    .map_err(internal)
}

impl SqliteStorage {
    /// Creates an expression index for each combination of filtered fields the first time
    /// it is queried (fields in the order given, then id for the result order), so equality
    /// queries stay index lookups as collections grow. Returns the index name for an
    /// `INDEXED BY` clause: without statistics SQLite's planner would rather walk the
    /// primary key in id order than use an expression index.
    fn ensure_field_indexes(&self, filters: &[FieldFilter]) -> Option<String> {
        let fields: Vec<&str> = filters.iter().map(|f| f.field.as_str()).collect();
        let (name, sql) = field_indexes::field_index(&fields)?;
        let key = fields.join(",");
        let Ok(mut known) = self.indexed_fields.lock() else {
            return None;
        };
        if known.contains(&key) {
            return Some(name);
        }
        if known.len() >= MAX_FIELD_INDEXES {
            return None;
        }
        let created = self
            .writer
            .lock()
            .ok()
            .and_then(|g| g.as_ref().map(|c| c.execute_batch(&sql)));
        match created {
            Some(Ok(())) => {
                known.insert(key);
                Some(name)
            }
            Some(Err(e)) => {
                tracing::warn!("creating an index for {key}: {e}");
                None
            }
            None => None,
        }
    }
}

/// One write as its conditional statement; a write that changed nothing is the conflict the
/// version read next explains.
fn put_in(tx: &Transaction<'_>, tenant: &str, w: &Write, now: u64) -> CapResult<Document> {
    rules::check_write(&w.collection, &w.id, &w.data)?;
    let written = first(
        tx,
        &documents::put(tenant, w.borrowed(), now),
        row_to_document,
    )
    .map_err(internal)?;
    match written {
        Some(doc) => Ok(doc),
        None => {
            let current = version_of(tx, tenant, &w.collection, &w.id)?;
            Err(rules::unmet_precondition(&w.collection, &w.id, w.expect, current).into())
        }
    }
}

/// One removal inside a write transaction: whether the document was there, or the
/// conflict of a version that did not match.
fn delete_in(
    tx: &Transaction<'_>,
    tenant: &str,
    collection: &str,
    id: &str,
    expected: Option<u64>,
) -> CapResult<bool> {
    let deleted = first(
        tx,
        &documents::delete(tenant, collection, id, expected),
        |r| r.get::<_, i64>(0),
    )
    .map_err(internal)?;
    if deleted.is_some() {
        return Ok(true);
    }
    let current = match expected {
        Some(_) => version_of(tx, tenant, collection, id)?,
        None => None,
    };
    Ok(rules::missed_delete(collection, id, expected, current)?)
}

/// Appends `record` to its chain inside the write transaction, which holds the database's
/// write lock: the head read here is the head the insert follows, whichever process writes.
fn append_in(tx: &Transaction<'_>, record: &AuditEntry, body: String) -> CapResult<u64> {
    let head = first(tx, &audit_sql::head(Sqlite, &record.tenant), |r| {
        Ok((r.get::<_, i64>(0)? as u64, r.get::<_, String>(1)?))
    })
    .map_err(internal)?;
    let (seq, prev) = head.unwrap_or((0, GENESIS.to_string()));
    let placed = StoredRecord::place_body(record, body, seq + 1, &prev);
    run(tx, &audit_sql::insert(Sqlite, &placed)).map_err(internal)?;
    Ok(placed.seq)
}

/// A row of `audit_sql::RECORD_COLUMNS`.
fn row_to_record(r: &Row<'_>) -> rusqlite::Result<StoredRecord> {
    Ok(StoredRecord {
        tenant: r.get(0)?,
        seq: r.get::<_, i64>(1)? as u64,
        id: r.get(2)?,
        at: r.get::<_, i64>(3)? as u64,
        actor: r.get(4)?,
        action: r.get(5)?,
        outcome: r.get(6)?,
        target: r.get(7)?,
        body: r.get(8)?,
        prev_hash: r.get(9)?,
        hash: r.get(10)?,
    })
}

/// A row of `audit_sql::CHECKPOINT_COLUMNS`.
fn row_to_checkpoint(r: &Row<'_>) -> rusqlite::Result<SignedCheckpoint> {
    Ok(SignedCheckpoint {
        checkpoint: Checkpoint {
            tenant: r.get(0)?,
            seq: r.get::<_, i64>(1)? as u64,
            hash: r.get(2)?,
            at: r.get::<_, i64>(3)? as u64,
            prev_signature: r.get(4)?,
        },
        public_key: r.get(5)?,
        signature: r.get(6)?,
    })
}

#[async_trait::async_trait]
impl StorageBackend for SqliteStorage {
    async fn status(&self) -> BackendStatus {
        match self.read(|c| c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))) {
            Ok(_) => BackendStatus::healthy("sqlite", self.path.display().to_string()),
            Err(e) => BackendStatus {
                name: "sqlite".into(),
                healthy: false,
                detail: e.to_string(),
            },
        }
    }

    async fn get(&self, tenant: &str, collection: &str, id: &str) -> CapResult<Option<Document>> {
        self.read(|c| first(c, &documents::get(tenant, collection, id), row_to_document))
    }

    async fn get_many(
        &self,
        tenant: &str,
        keys: &[DocumentKey],
    ) -> CapResult<Vec<Option<Document>>> {
        get_many::check_count(keys.len())?;
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let statement = documents::get_many(tenant, &super::keys_json(keys));
        let found = self.read(|c| {
            all(c, &statement, |r| {
                Ok((r.get::<_, i64>(6)? as usize, row_to_document(r)?))
            })
        })?;
        Ok(get_many::in_request_order(keys.len(), found))
    }

    async fn put(
        &self,
        tenant: &str,
        collection: &str,
        id: &str,
        data: &str,
        expect: Expect,
    ) -> CapResult<Document> {
        let w = Write {
            collection: collection.into(),
            id: id.into(),
            data: data.into(),
            expect,
        };
        self.write(|tx| put_in(tx, tenant, &w, now_ms()))
    }

    async fn put_many(&self, tenant: &str, writes: &[Write]) -> CapResult<Vec<Document>> {
        let now = now_ms();
        // A failed precondition returns early: the transaction is dropped, so nothing stays.
        self.write(|tx| writes.iter().map(|w| put_in(tx, tenant, w, now)).collect())
    }

    async fn delete(
        &self,
        tenant: &str,
        collection: &str,
        id: &str,
        expected: Option<u64>,
    ) -> CapResult<bool> {
        self.write(|tx| delete_in(tx, tenant, collection, id, expected))
    }

    async fn query(
        &self,
        tenant: &str,
        collection: &str,
        filters: &[FieldFilter],
        limit: u32,
        cursor: Option<&str>,
    ) -> CapResult<Page> {
        rules::check_limit(limit)?;
        // Build first: a malformed filter is refused before any index is made for it.
        documents::query(
            tenant,
            collection,
            &filter_pairs(filters),
            limit,
            cursor,
            None,
        )?;
        let index = self.ensure_field_indexes(filters);
        let statement = documents::query(
            tenant,
            collection,
            &filter_pairs(filters),
            limit,
            cursor,
            index.as_deref(),
        )?;
        let mut docs = self.read(|c| all(c, &statement, row_to_document))?;
        let next_cursor = finish_page(&mut docs, limit, |d| &d.id);
        Ok(Page {
            documents: docs,
            next_cursor,
        })
    }

    async fn count(
        &self,
        tenant: &str,
        collection: &str,
        filters: &[FieldFilter],
    ) -> CapResult<u64> {
        documents::count(tenant, collection, &filter_pairs(filters), None)?;
        let index = self.ensure_field_indexes(filters);
        let statement =
            documents::count(tenant, collection, &filter_pairs(filters), index.as_deref())?;
        self.read(|c| first(c, &statement, |r| r.get::<_, i64>(0)).map(|n| n.unwrap_or(0) as u64))
    }

    async fn list_collections(&self, tenant: &str) -> CapResult<Vec<String>> {
        self.read(|c| all(c, &documents::list_collections(tenant), |r| r.get(0)))
    }

    async fn scan(
        &self,
        tenant: &str,
        collection: &str,
        after: Option<&str>,
        limit: u32,
    ) -> CapResult<Vec<Document>> {
        rules::check_limit(limit)?;
        self.read(|c| {
            all(
                c,
                &documents::scan(tenant, collection, after, limit),
                row_to_document,
            )
        })
    }

    async fn stats(&self, tenant: &str) -> CapResult<StorageStats> {
        let totals = self.read(|c| {
            first(c, &documents::stats(tenant), |r| {
                Ok(StorageStats {
                    documents: r.get::<_, i64>(0)? as u64,
                    size_bytes: r.get::<_, i64>(1)? as u64,
                })
            })
        })?;
        Ok(totals.unwrap_or(StorageStats {
            documents: 0,
            size_bytes: 0,
        }))
    }

    async fn import(
        &self,
        tenant: &str,
        docs: &[Document],
        mode: ImportMode,
    ) -> CapResult<ImportOutcome> {
        self.write(|tx| {
            let mut outcome = ImportOutcome::default();
            for d in docs {
                let n = run(tx, &documents::import(tenant, d, mode)).map_err(internal)?;
                if n > 0 {
                    outcome.written += 1;
                    continue;
                }
                let current = first(
                    tx,
                    &documents::get(tenant, &d.collection, &d.id),
                    row_to_document,
                )
                .map_err(internal)?
                .ok_or_else(|| {
                    CapabilityError::Internal(format!(
                        "sqlite: {}/{} was neither written nor found",
                        d.collection, d.id
                    ))
                })?;
                if same_document(&current, d) {
                    outcome.skipped += 1;
                } else {
                    outcome.conflicts.push(d.id.clone());
                }
            }
            Ok(outcome)
        })
    }

    async fn change(
        &self,
        tenant: &str,
        writes: &[Write],
        removals: &[Removal],
        record: &AuditEntry,
    ) -> CapResult<Changed> {
        check_audit_scope(tenant, record)?;
        let now = now_ms();
        // Made before the write lock is taken: only the link is made under it.
        let body = record.body();
        self.write(|tx| {
            let documents = writes
                .iter()
                .map(|w| put_in(tx, tenant, w, now))
                .collect::<CapResult<Vec<_>>>()?;
            let removed = removals
                .iter()
                .map(|r| delete_in(tx, tenant, &r.collection, &r.id, r.expected))
                .collect::<CapResult<Vec<_>>>()?;
            let seq = append_in(tx, record, body)?;
            Ok(Changed {
                documents,
                removed,
                seq,
            })
        })
    }

    async fn audit_list(&self, tenant: &str, filter: &AuditFilter) -> CapResult<Vec<StoredRecord>> {
        self.read(|c| all(c, &audit_sql::list(Sqlite, tenant, filter), row_to_record))
    }

    async fn audit_scan(
        &self,
        tenant: &str,
        after_seq: u64,
        since: u64,
        limit: u32,
    ) -> CapResult<Vec<StoredRecord>> {
        let statement = audit_sql::scan(Sqlite, tenant, after_seq, since, limit);
        self.read(|c| all(c, &statement, row_to_record))
    }

    async fn audit_tenants(&self) -> CapResult<Vec<String>> {
        self.read(|c| all(c, &audit_sql::tenants(Sqlite), |r| r.get(0)))
    }

    async fn audit_checkpoints(&self, tenant: &str) -> CapResult<Vec<SignedCheckpoint>> {
        self.read(|c| {
            all(
                c,
                &audit_sql::checkpoints(Sqlite, tenant),
                row_to_checkpoint,
            )
        })
    }

    async fn audit_head(&self, tenant: &str) -> CapResult<Option<ChainHead>> {
        self.read(|c| {
            first(c, &audit_sql::head_of(Sqlite, tenant), |r| {
                Ok(ChainHead {
                    tenant: tenant.to_string(),
                    seq: r.get::<_, i64>(0)? as u64,
                    hash: r.get(1)?,
                    checkpointed: r.get::<_, i64>(2)? as u64,
                    last_signature: r.get(3)?,
                })
            })
        })
    }

    async fn audit_add_checkpoint(&self, checkpoint: &SignedCheckpoint) -> CapResult<bool> {
        let statement = audit_sql::insert_checkpoint(Sqlite, checkpoint);
        self.write(|tx| {
            Ok(first(tx, &statement, |r| r.get::<_, i64>(0))
                .map_err(internal)?
                .is_some())
        })
    }

    async fn audit_prune(&self, tenant: &str, before_seq: u64) -> CapResult<u64> {
        let statement = audit_sql::prune(Sqlite, tenant, before_seq);
        self.write(|tx| Ok(run(tx, &statement).map_err(internal)? as u64))
    }

    async fn meta(&self, key: &str) -> CapResult<Option<String>> {
        self.read(|c| first(c, &schema::read_meta(key), |r| r.get(0)))
    }

    async fn set_meta(&self, key: &str, value: Option<&str>) -> CapResult<()> {
        self.write(|tx| {
            let statement = match value {
                Some(v) => schema::write_meta(key, v),
                None => schema::remove_meta(key),
            };
            run(tx, &statement).map_err(internal)?;
            Ok(())
        })
    }

    async fn close(&self) {
        for r in &self.readers {
            if let Ok(mut g) = r.lock() {
                g.take();
            }
        }
        if let Ok(mut g) = self.writer.lock()
            && let Some(conn) = g.take()
        {
            let _ = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);");
            if let Err((_, e)) = conn.close() {
                tracing::warn!("closing sqlite: {e}");
            }
        }
    }
}
