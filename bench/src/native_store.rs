//! The native baseline's storage: a SQLite file with Marcus's `documents` schema, read the
//! way Marcus's SQLite backend reads it (WAL, a few read-only connections, cached statements).

use anyhow::Context;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
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
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() as i64;
    conn.execute(
        "INSERT OR REPLACE INTO documents (collection, id, data, version, created_at, updated_at)
         VALUES (?1, ?2, ?3, 1, ?4, ?4)",
        params![collection, id, data_json, now],
    )?;
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
        let row = guard
            .prepare_cached(
                "SELECT data, version, created_at, updated_at FROM documents
                 WHERE collection = ?1 AND id = ?2",
            )?
            .query_row(params![collection, id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
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
