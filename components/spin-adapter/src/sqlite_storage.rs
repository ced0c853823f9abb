//! Storage on Spin SQLite: the native SQLite backend's schema and versioned
//! compare-and-swap, each write a single atomic statement.

use crate::bindings::Error;
use crate::bindings::sqlite::Value;
use crate::bindings::storage::{Document, Expect, FieldFilter, Page, StorageStats, Write};
use crate::document_store::{DocumentStore, conflict, holds};
use crate::field_filters;
use crate::sqlite_db::{Db, i, int, t, text};
use std::cell::RefCell;
use std::collections::HashSet;

const COLUMNS: &str = "collection, id, data, version, created_at, updated_at";

/// Most field combinations that get an automatic expression index.
const MAX_FIELD_INDEXES: usize = 32;

thread_local! {
    /// Expression indexes known to exist, read once per instance.
    static FIELD_INDEXES: RefCell<Option<HashSet<String>>> = const { RefCell::new(None) };
}

/// The SQLite backend (the default on Spin).
pub struct SqliteDocuments {
    db: Db,
}

impl SqliteDocuments {
    /// Opens Spin's `default` database.
    pub fn open() -> Result<Self, Error> {
        Ok(Self { db: Db::open()? })
    }
}

fn document(row: &[Value]) -> Result<Document, Error> {
    Ok(Document {
        collection: text(row, 0)?,
        id: text(row, 1)?,
        data: text(row, 2)?,
        version: int(row, 3)? as u64,
        created_at: int(row, 4)? as u64,
        updated_at: int(row, 5)? as u64,
    })
}

fn version_of(db: &Db, collection: &str, id: &str) -> Result<Option<u64>, Error> {
    Ok(db
        .first(
            "SELECT version FROM documents WHERE collection = ? AND id = ?",
            &[t(collection), t(id)],
        )?
        .map(|row| int(&row, 0))
        .transpose()?
        .map(|v| v as u64))
}

/// One conditional write as one statement; `None` when the precondition failed.
fn put_one(db: &Db, w: &Write, now: u64) -> Result<Option<Document>, Error> {
    let returning = format!(" RETURNING {COLUMNS}");
    let row = match w.expect {
        Expect::Any => db.first(
            &format!(
                "INSERT INTO documents ({COLUMNS}) VALUES (?, ?, ?, 1, ?, ?)
                 ON CONFLICT (collection, id) DO UPDATE SET
                   data = excluded.data, version = documents.version + 1,
                   updated_at = excluded.updated_at{returning}"
            ),
            &[t(&w.collection), t(&w.id), t(&w.data), i(now), i(now)],
        )?,
        Expect::Absent => db.first(
            &format!(
                "INSERT INTO documents ({COLUMNS}) VALUES (?, ?, ?, 1, ?, ?)
                 ON CONFLICT (collection, id) DO NOTHING{returning}"
            ),
            &[t(&w.collection), t(&w.id), t(&w.data), i(now), i(now)],
        )?,
        Expect::Version(v) => db.first(
            &format!(
                "UPDATE documents SET data = ?, version = version + 1, updated_at = ?
                 WHERE collection = ? AND id = ? AND version = ?{returning}"
            ),
            &[t(&w.data), i(now), t(&w.collection), t(&w.id), i(v)],
        )?,
    };
    row.as_deref().map(document).transpose()
}

/// The expression index for `filters` as an `INDEXED BY` clause, creating it on first use.
fn index_hint(db: &Db, filters: &[FieldFilter]) -> String {
    let Some((name, create)) = field_filters::index_for(filters) else {
        return String::new();
    };
    FIELD_INDEXES.with(|known| {
        let mut known = known.borrow_mut();
        let known = known.get_or_insert_with(|| {
            db.rows(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'documents_by_%'",
                &[],
            )
            .map(|rows| rows.iter().filter_map(|r| text(r, 0).ok()).collect())
            .unwrap_or_default()
        });
        if known.contains(&name) {
            return format!(" INDEXED BY {name}");
        }
        if known.len() >= MAX_FIELD_INDEXES || db.rows(&create, &[]).is_err() {
            return String::new();
        }
        let hint = format!(" INDEXED BY {name}");
        known.insert(name);
        hint
    })
}

impl DocumentStore for SqliteDocuments {
    fn get(&self, collection: &str, id: &str) -> Result<Option<Document>, Error> {
        self.db
            .first(
                &format!("SELECT {COLUMNS} FROM documents WHERE collection = ? AND id = ?"),
                &[t(collection), t(id)],
            )?
            .as_deref()
            .map(document)
            .transpose()
    }

    fn put(&self, w: &Write, now: u64) -> Result<Document, Error> {
        match put_one(&self.db, w, now)? {
            Some(doc) => Ok(doc),
            None => {
                let current = version_of(&self.db, &w.collection, &w.id)?;
                Err(conflict(&w.collection, &w.id, w.expect, current))
            }
        }
    }

    /// All writes in one `INSERT … SELECT` whose rows exist only when every precondition
    /// holds, so SQLite applies the whole batch or none of it.
    fn put_many(&self, writes: &[Write], now: u64) -> Result<Vec<Document>, Error> {
        let db = &self.db;
        let mut params = Vec::with_capacity(writes.len() * 6 + 2);
        let mut rows = Vec::with_capacity(writes.len());
        for (pos, w) in writes.iter().enumerate() {
            let (kind, version) = match w.expect {
                Expect::Any => ("any", 0),
                Expect::Absent => ("absent", 0),
                Expect::Version(v) => ("version", v),
            };
            rows.push("(?, ?, ?, ?, ?, ?)");
            params.extend([
                i(pos as u64),
                t(&w.collection),
                t(&w.id),
                t(&w.data),
                t(kind),
                i(version),
            ]);
        }
        params.extend([i(now), i(now)]);
        let sql = format!(
            "WITH batch (pos, collection, id, data, kind, want) AS (VALUES {}),
             checked AS (
               SELECT b.*, d.version AS have, d.created_at AS created,
                 (b.kind = 'any'
                  OR (b.kind = 'absent' AND d.version IS NULL)
                  OR (b.kind = 'version' AND d.version = b.want)) AS ok
               FROM batch b LEFT JOIN documents d
                 ON d.collection = b.collection AND d.id = b.id)
             INSERT INTO documents ({COLUMNS})
             SELECT collection, id, data, COALESCE(have, 0) + 1, COALESCE(created, ?), ?
             FROM checked
             WHERE NOT EXISTS (SELECT 1 FROM checked WHERE NOT ok)
             ON CONFLICT (collection, id) DO UPDATE SET
               data = excluded.data, version = excluded.version,
               updated_at = excluded.updated_at
             RETURNING {COLUMNS}",
            rows.join(", ")
        );
        let written = db.rows(&sql, &params)?;
        if written.len() != writes.len() {
            for w in writes {
                let current = version_of(db, &w.collection, &w.id)?;
                if !holds(w.expect, current) {
                    return Err(conflict(&w.collection, &w.id, w.expect, current));
                }
            }
            // Every precondition holds on a second look: another writer moved in between.
            let first = &writes[0];
            return Err(conflict(&first.collection, &first.id, Expect::Any, None));
        }
        let mut docs = written
            .iter()
            .map(|row| document(row))
            .collect::<Result<Vec<_>, _>>()?;
        // RETURNING order is unspecified: answer in the order the writes were given.
        let position = |d: &Document| {
            writes
                .iter()
                .position(|w| w.collection == d.collection && w.id == d.id)
        };
        docs.sort_by_key(position);
        Ok(docs)
    }

    fn delete(&self, collection: &str, id: &str, expected: Option<u64>) -> Result<bool, Error> {
        let db = &self.db;
        let deleted = match expected {
            None => db.first(
                "DELETE FROM documents WHERE collection = ? AND id = ? RETURNING version",
                &[t(collection), t(id)],
            )?,
            Some(v) => db.first(
                "DELETE FROM documents WHERE collection = ? AND id = ? AND version = ? RETURNING version",
                &[t(collection), t(id), i(v)],
            )?,
        };
        match (deleted, expected) {
            (Some(_), _) => Ok(true),
            (None, None) => Ok(false),
            (None, Some(want)) => match version_of(db, collection, id)? {
                None => Ok(false),
                Some(have) => Err(Error::Conflict(format!(
                    "{collection}/{id} is at version {have}, not {want}"
                ))),
            },
        }
    }

    fn query(
        &self,
        collection: &str,
        filters: &[FieldFilter],
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Page, Error> {
        let (cond, fparams) = field_filters::sql(filters)?;
        let db = &self.db;
        let hint = index_hint(db, filters);
        let mut params = vec![t(collection), t(cursor.unwrap_or(""))];
        params.extend(fparams);
        params.push(i(limit as u64 + 1));
        let mut documents = db
            .rows(
                &format!(
                    "SELECT {COLUMNS} FROM documents{hint} WHERE collection = ? AND id > ?{cond} ORDER BY id LIMIT ?"
                ),
                &params,
            )?
            .iter()
            .map(|row| document(row))
            .collect::<Result<Vec<_>, _>>()?;
        let next_cursor = marcus_core::store::page::finish_page(&mut documents, limit, |d| &d.id);
        Ok(Page {
            documents,
            next_cursor,
        })
    }

    fn count(&self, collection: &str, filters: &[FieldFilter]) -> Result<u64, Error> {
        let (cond, fparams) = field_filters::sql(filters)?;
        let db = &self.db;
        let hint = index_hint(db, filters);
        let mut params = vec![t(collection)];
        params.extend(fparams);
        let row = db.first(
            &format!("SELECT COUNT(*) FROM documents{hint} WHERE collection = ?{cond}"),
            &params,
        )?;
        Ok(row.map(|r| int(&r, 0)).transpose()?.unwrap_or(0) as u64)
    }

    fn list_collections(&self) -> Result<Vec<String>, Error> {
        self.db
            .rows(
                "SELECT DISTINCT collection FROM documents ORDER BY collection",
                &[],
            )?
            .iter()
            .map(|r| text(r, 0))
            .collect()
    }

    fn scan(
        &self,
        collection: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Document>, Error> {
        self.db
            .rows(
                &format!(
                    "SELECT {COLUMNS} FROM documents WHERE collection = ? AND id > ? ORDER BY id LIMIT ?"
                ),
                &[t(collection), t(after.unwrap_or("")), i(limit as u64)],
            )?
            .iter()
            .map(|row| document(row))
            .collect()
    }

    fn stats(&self) -> Result<StorageStats, Error> {
        let db = &self.db;
        let count = |sql: &str| -> Result<u64, Error> {
            Ok(db
                .first(sql, &[])?
                .map(|r| int(&r, 0))
                .transpose()?
                .unwrap_or(0) as u64)
        };
        let documents = count("SELECT COUNT(*) FROM documents")?;
        let pages = count("PRAGMA page_count")?;
        let page_size = count("PRAGMA page_size")?;
        Ok(StorageStats {
            documents,
            size_bytes: pages * page_size,
        })
    }
}
