//! The native baseline's storage: a SQLite file with Marcus's `documents` schema (the shared
//! SQLite dialect's statements), read the way Marcus's SQLite backend reads it (WAL, a few
//! read-only connections, cached statements, the same read statement).

use anyhow::Context;
use marcus_core::store::sqlite_sql::{documents, schema};
use marcus_core::store::{Document, ImportMode};
use marcus_host::storage::sqlite::bound;
// The tenant of Marcus's requests on a loopback listener, whose rows the baseline reads.
use marcus_identity::tenant::DEFAULT_TENANT;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Read-only connections in the pool, as many as Marcus's SQLite backend keeps.
const READERS: usize = 4;

/// Creates the database at `path` with Marcus's schema and writes one document at version 1.
pub fn seed(path: &Path, collection: &str, id: &str, data_json: &str) -> anyhow::Result<()> {
    let conn = Connection::open(path).with_context(|| format!("opening {}", path.display()))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    for statement in schema::SCHEMA {
        conn.execute_batch(statement)?;
    }
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() as u64;
    let doc = Document {
        collection: collection.into(),
        id: id.into(),
        data: data_json.into(),
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let insert = documents::import(DEFAULT_TENANT, &doc, ImportMode::Overwrite);
    conn.execute(&insert.sql, bound(&insert))?;
    Ok(())
}

/// A small pool of read-only connections shared by the server's worker threads.
pub struct DocumentReader {
    readers: Vec<Mutex<Connection>>,
    next: AtomicUsize,
}

impl DocumentReader {
    /// Opens the pool on an existing, seeded database.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let conn = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            conn.busy_timeout(std::time::Duration::from_secs(5))?;
            readers.push(Mutex::new(conn));
        }
        Ok(Self {
            readers,
            next: AtomicUsize::new(0),
        })
    }

    /// Reads one document and renders it as Marcus does:
    /// `{"collection","id","data","version","created_at","updated_at"}`; `None` when absent.
    pub fn read_json(&self, collection: &str, id: &str) -> anyhow::Result<Option<Vec<u8>>> {
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let n = self.readers.len();
        let guard = (0..n)
            .find_map(|i| self.readers[(start + i) % n].try_lock().ok())
            .map_or_else(|| self.readers[start % n].lock(), Ok)
            .map_err(|_| anyhow::anyhow!("reader lock poisoned"))?;
        let read = documents::get(DEFAULT_TENANT, collection, id);
        // Columns as `documents::COLUMNS` lists them: collection, id, data, version, times.
        let row = guard
            .prepare_cached(&read.sql)?
            .query_row(bound(&read), |r| {
                Ok((
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, i64>(5)?,
                ))
            })
            .optional()?;
        drop(guard);
        let Some((data, version, created_at, updated_at)) = row else {
            return Ok(None);
        };
        let data: serde_json::Value = serde_json::from_str(&data)?;
        let document = serde_json::json!({
            "collection": collection,
            "id": id,
            "data": data,
            "version": version,
            "created_at": created_at,
            "updated_at": updated_at,
        });
        Ok(Some(serde_json::to_vec(&document)?))
    }
}
