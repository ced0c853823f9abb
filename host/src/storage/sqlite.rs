//! SQLite storage: the solo tier's zero-configuration backend.
//!
//! One writer connection (SQLite allows one writer at a time) and a few reader
//! connections in WAL mode, so reads never wait for writes.

use super::{
    Document, Expect, FieldFilter, ImportMode, ImportOutcome, Page, StorageBackend, StorageStats,
    Write, filter_pairs, now_ms, same_document,
};
use crate::backend_status::BackendStatus;
use crate::capability_error::{CapResult, CapabilityError};
use marcus_core::store::page::finish_page;
use marcus_core::store::rules;
use marcus_core::store::sqlite_sql::{self, SqlValue};
use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags, OptionalExtension, Transaction, params, params_from_iter};
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

/// Schema version this binary writes and understands.
pub const SCHEMA_VERSION: i64 = 1;

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
        let writer = Connection::open(path)?;
        writer.busy_timeout(std::time::Duration::from_secs(5))?;
        writer.pragma_update(None, "journal_mode", "WAL")?;
        writer.pragma_update(None, "synchronous", sync.pragma())?;
        migrate_schema(&writer)?;
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
fn migrate_schema(conn: &Connection) -> anyhow::Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS marcus_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
    )?;
    let version: Option<i64> = conn
        .query_row(
            "SELECT value FROM marcus_meta WHERE key = 'schema_version'",
            [],
            |r| r.get::<_, String>(0),
        )
        .optional()?
        .and_then(|v| v.parse().ok());
    if let Some(v) = version
        && v > SCHEMA_VERSION
    {
        anyhow::bail!(
            "database schema version {v} is newer than this marcus understands ({SCHEMA_VERSION}); upgrade marcus"
        );
    }
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS documents (
            collection TEXT NOT NULL,
            id TEXT NOT NULL,
            data TEXT NOT NULL,
            version INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (collection, id)
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS documents_collection ON documents (collection);",
    )?;
    conn.execute(
        "INSERT INTO marcus_meta (key, value) VALUES ('schema_version', ?1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![SCHEMA_VERSION.to_string()],
    )?;
    Ok(())
}

fn row_to_document(row: &rusqlite::Row<'_>) -> rusqlite::Result<Document> {
    Ok(Document {
        collection: row.get(0)?,
        id: row.get(1)?,
        data: row.get(2)?,
        version: row.get::<_, i64>(3)? as u64,
        created_at: row.get::<_, i64>(4)? as u64,
        updated_at: row.get::<_, i64>(5)? as u64,
    })
}

const COLUMNS: &str = "collection, id, data, version, created_at, updated_at";

/// SQL condition and rusqlite parameters for equality filters (the shared builder's SQL).
fn filter_sql(filters: &[FieldFilter]) -> CapResult<(String, Vec<Value>)> {
    let (sql, params) = sqlite_sql::filter_sql(&filter_pairs(filters))?;
    let params = params
        .into_iter()
        .map(|p| match p {
            SqlValue::Integer(i) => Value::Integer(i),
            SqlValue::Real(r) => Value::Real(r),
            SqlValue::Text(t) => Value::Text(t),
        })
        .collect();
    Ok((sql, params))
}

/// Most field combinations that get an automatic expression index.
const MAX_FIELD_INDEXES: usize = 32;

impl SqliteStorage {
    /// Creates an expression index for each combination of filtered fields the first time
    /// it is queried (fields in the order given, then id for the result order), so equality
    /// queries stay index lookups as collections grow. Returns the index name for an
    /// `INDEXED BY` clause: without statistics SQLite's planner would rather walk the
    /// primary key in id order than use an expression index.
    fn ensure_field_indexes(&self, filters: &[FieldFilter]) -> Option<String> {
        let fields: Vec<&str> = filters.iter().map(|f| f.field.as_str()).collect();
        let (name, sql) = sqlite_sql::field_index(&fields)?;
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

fn put_in(tx: &Transaction<'_>, w: &Write, now: u64) -> CapResult<Document> {
    rules::check_write(&w.collection, &w.id, &w.data)?;
    let current: Option<(i64, i64)> = tx
        .query_row(
            "SELECT version, created_at FROM documents WHERE collection = ?1 AND id = ?2",
            params![w.collection, w.id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(internal)?;
    rules::check_expect(&w.collection, &w.id, w.expect, current.map(|c| c.0 as u64))?;
    let (version, created_at) = match current {
        Some((v, c)) => (v as u64 + 1, c as u64),
        None => (1, now),
    };
    tx.execute(
        "INSERT INTO documents (collection, id, data, version, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (collection, id) DO UPDATE SET
           data = excluded.data, version = excluded.version, updated_at = excluded.updated_at",
        params![
            w.collection,
            w.id,
            w.data,
            version as i64,
            created_at as i64,
            now as i64
        ],
    )
    .map_err(internal)?;
    Ok(Document {
        collection: w.collection.clone(),
        id: w.id.clone(),
        data: w.data.clone(),
        version,
        created_at,
        updated_at: now,
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

    async fn get(&self, collection: &str, id: &str) -> CapResult<Option<Document>> {
        self.read(|c| {
            c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM documents WHERE collection = ?1 AND id = ?2"
            ))?
            .query_row(params![collection, id], row_to_document)
            .optional()
        })
    }

    async fn put(
        &self,
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
        self.write(|tx| put_in(tx, &w, now_ms()))
    }

    async fn put_many(&self, writes: &[Write]) -> CapResult<Vec<Document>> {
        let now = now_ms();
        // A failed precondition returns early: the transaction is dropped, so nothing stays.
        self.write(|tx| writes.iter().map(|w| put_in(tx, w, now)).collect())
    }

    async fn delete(&self, collection: &str, id: &str, expected: Option<u64>) -> CapResult<bool> {
        self.write(|tx| {
            let current: Option<i64> = tx
                .query_row(
                    "SELECT version FROM documents WHERE collection = ?1 AND id = ?2",
                    params![collection, id],
                    |r| r.get(0),
                )
                .optional()
                .map_err(internal)?;
            match (current, expected) {
                (None, None) => Ok(false),
                (None, Some(_)) => Ok(false),
                (Some(have), Some(want)) if have as u64 != want => Err(CapabilityError::Conflict(
                    format!("{collection}/{id} is at version {have}, not {want}"),
                )),
                (Some(_), _) => {
                    tx.execute(
                        "DELETE FROM documents WHERE collection = ?1 AND id = ?2",
                        params![collection, id],
                    )
                    .map_err(internal)?;
                    Ok(true)
                }
            }
        })
    }

    async fn query(
        &self,
        collection: &str,
        filters: &[FieldFilter],
        limit: u32,
        cursor: Option<&str>,
    ) -> CapResult<Page> {
        rules::check_limit(limit)?;
        let (cond, fparams) = filter_sql(filters)?;
        let hint = self
            .ensure_field_indexes(filters)
            .map(|name| format!(" INDEXED BY {name}"))
            .unwrap_or_default();
        let mut docs = self.read(|c| {
            let sql = format!(
                "SELECT {COLUMNS} FROM documents{hint} WHERE collection = ? AND id > ?{cond} ORDER BY id LIMIT ?"
            );
            let mut all: Vec<Value> = vec![
                collection.to_string().into(),
                cursor.unwrap_or("").to_string().into(),
            ];
            all.extend(fparams);
            all.push((limit as i64 + 1).into());
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt.query_map(params_from_iter(all), row_to_document)?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })?;
        let next_cursor = finish_page(&mut docs, limit, |d| &d.id);
        Ok(Page {
            documents: docs,
            next_cursor,
        })
    }

    async fn count(&self, collection: &str, filters: &[FieldFilter]) -> CapResult<u64> {
        let (cond, fparams) = filter_sql(filters)?;
        let hint = self
            .ensure_field_indexes(filters)
            .map(|name| format!(" INDEXED BY {name}"))
            .unwrap_or_default();
        self.read(|c| {
            let sql = format!("SELECT COUNT(*) FROM documents{hint} WHERE collection = ?{cond}");
            let mut all: Vec<Value> = vec![collection.to_string().into()];
            all.extend(fparams);
            c.prepare_cached(&sql)?
                .query_row(params_from_iter(all), |r| r.get::<_, i64>(0))
                .map(|n| n as u64)
        })
    }

    async fn list_collections(&self) -> CapResult<Vec<String>> {
        self.read(|c| {
            let mut stmt =
                c.prepare_cached("SELECT DISTINCT collection FROM documents ORDER BY collection")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect()
        })
    }

    async fn scan(
        &self,
        collection: &str,
        after: Option<&str>,
        limit: u32,
    ) -> CapResult<Vec<Document>> {
        rules::check_limit(limit)?;
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM documents WHERE collection = ?1 AND id > ?2 ORDER BY id LIMIT ?3"
            ))?;
            let rows = stmt.query_map(
                params![collection, after.unwrap_or(""), limit as i64],
                row_to_document,
            )?;
            rows.collect()
        })
    }

    async fn stats(&self) -> CapResult<StorageStats> {
        self.read(|c| {
            let documents: i64 = c.query_row("SELECT COUNT(*) FROM documents", [], |r| r.get(0))?;
            let pages: i64 = c.query_row("PRAGMA page_count", [], |r| r.get(0))?;
            let page_size: i64 = c.query_row("PRAGMA page_size", [], |r| r.get(0))?;
            Ok(StorageStats {
                documents: documents as u64,
                size_bytes: (pages * page_size) as u64,
            })
        })
    }

    async fn import(&self, docs: &[Document], mode: ImportMode) -> CapResult<ImportOutcome> {
        self.write(|tx| {
            let mut outcome = ImportOutcome::default();
            let mut insert = tx
                .prepare_cached(match mode {
                    ImportMode::Merge => {
                        "INSERT OR IGNORE INTO documents (collection, id, data, version, created_at, updated_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
                    }
                    ImportMode::Overwrite => {
                        "INSERT OR REPLACE INTO documents (collection, id, data, version, created_at, updated_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
                    }
                })
                .map_err(internal)?;
            let mut existing = tx
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM documents WHERE collection = ?1 AND id = ?2"
                ))
                .map_err(internal)?;
            for d in docs {
                let n = insert
                    .execute(params![
                        d.collection,
                        d.id,
                        d.data,
                        d.version as i64,
                        d.created_at as i64,
                        d.updated_at as i64
                    ])
                    .map_err(internal)?;
                if n > 0 {
                    outcome.written += 1;
                    continue;
                }
                let current = existing
                    .query_row(params![d.collection, d.id], row_to_document)
                    .map_err(internal)?;
                if same_document(&current, d) {
                    outcome.skipped += 1;
                } else {
                    outcome.conflicts.push(d.id.clone());
                }
            }
            Ok(outcome)
        })
    }

    async fn meta(&self, key: &str) -> CapResult<Option<String>> {
        self.read(|c| {
            c.query_row(
                "SELECT value FROM marcus_meta WHERE key = ?1",
                params![key],
                |r| r.get(0),
            )
            .optional()
        })
    }

    async fn set_meta(&self, key: &str, value: Option<&str>) -> CapResult<()> {
        self.write(|tx| {
            match value {
                Some(v) => tx.execute(
                    "INSERT INTO marcus_meta (key, value) VALUES (?1, ?2)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    params![key, v],
                ),
                None => tx.execute("DELETE FROM marcus_meta WHERE key = ?1", params![key]),
            }
            .map_err(internal)?;
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
