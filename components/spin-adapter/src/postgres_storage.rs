//! Storage on PostgreSQL through Spin's outbound PostgreSQL (`spin:postgres`), used when the
//! `database_url` variable is set. Same schema and statements as the native PostgreSQL
//! backend, so Spin instances and native hosts can share one database: each single write is
//! one conditional statement, a batch is one transaction on the connection.

use crate::bindings::Error;
use crate::bindings::postgres::{self, Connection, DbValue, ParameterValue};
use crate::bindings::storage::{Document, FieldFilter, Page, StorageStats, Write};
use crate::document_store::{DocumentStore, conflict, holds};
use crate::field_filters;
use crate::settings;
use std::cell::Cell;

/// Schema version this adapter writes and understands (the native host's as well).
const SCHEMA_VERSION: i64 = 1;
/// Lock id that serialises schema creation, the native host's.
const SCHEMA_LOCK: i64 = 0x6d61_7263_7573;
const COLUMNS: &str = "collection, id, data::text, version, created_at, updated_at";

thread_local! {
    static SCHEMA_CHECKED: Cell<bool> = const { Cell::new(false) };
}

/// The PostgreSQL backend.
pub struct PostgresDocuments {
    conn: Connection,
    location: String,
}

fn s(v: &str) -> ParameterValue {
    ParameterValue::Str(v.to_string())
}

fn n(v: u64) -> ParameterValue {
    ParameterValue::Int64(v as i64)
}

fn text(row: &[DbValue], i: usize) -> Result<String, Error> {
    match row.get(i) {
        Some(DbValue::Str(v)) => Ok(v.clone()),
        other => Err(Error::Internal(format!(
            "postgres: unexpected value in column {i}: {other:?}"
        ))),
    }
}

fn int(row: &[DbValue], i: usize) -> Result<u64, Error> {
    match row.get(i) {
        Some(DbValue::Int64(v)) => Ok(*v as u64),
        Some(DbValue::Int32(v)) => Ok(*v as u64),
        Some(DbValue::DbNull) => Ok(0),
        other => Err(Error::Internal(format!(
            "postgres: unexpected value in column {i}: {other:?}"
        ))),
    }
}

fn document(row: &[DbValue]) -> Result<Document, Error> {
    Ok(Document {
        collection: text(row, 0)?,
        id: text(row, 1)?,
        data: text(row, 2)?,
        version: int(row, 3)?,
        created_at: int(row, 4)?,
        updated_at: int(row, 5)?,
    })
}

/// SQL condition and parameters for equality filters numbered from `$first`: the shared
/// builder's SQL, the native backend's exactly.
fn filter_sql(
    filters: &[FieldFilter],
    first: usize,
) -> Result<(String, Vec<ParameterValue>), Error> {
    let (sql, params) =
        marcus_core::store::postgres_sql::filter_sql(&field_filters::pairs(filters), first)?;
    Ok((sql, params.iter().map(|p| s(p)).collect()))
}

impl PostgresDocuments {
    /// Connects to `url` and makes sure the schema is there, once per instance.
    pub fn open(url: &str) -> Result<Self, Error> {
        let location = settings::without_credentials(url);
        let conn = Connection::open(url).map_err(|e| Self::error(&location, e))?;
        let store = Self { conn, location };
        if !SCHEMA_CHECKED.get() {
            store.ensure_schema()?;
            SCHEMA_CHECKED.set(true);
        }
        Ok(store)
    }

    fn error(location: &str, e: postgres::Error) -> Error {
        match e {
            postgres::Error::ConnectionFailed(m) => {
                Error::Unavailable(format!("postgres at {location}: {m}"))
            }
            postgres::Error::BadParameter(m)
            | postgres::Error::QueryFailed(m)
            | postgres::Error::ValueConversionFailed(m)
            | postgres::Error::Other(m) => Error::Internal(format!("postgres: {m}")),
        }
    }

    fn rows(&self, sql: &str, params: &[ParameterValue]) -> Result<Vec<Vec<DbValue>>, Error> {
        self.conn
            .query(sql, params)
            .map(|set| set.rows)
            .map_err(|e| Self::error(&self.location, e))
    }

    fn first(&self, sql: &str, params: &[ParameterValue]) -> Result<Option<Vec<DbValue>>, Error> {
        Ok(self.rows(sql, params)?.into_iter().next())
    }

    fn execute(&self, sql: &str, params: &[ParameterValue]) -> Result<u64, Error> {
        self.conn
            .execute(sql, params)
            .map_err(|e| Self::error(&self.location, e))
    }

    fn ensure_schema(&self) -> Result<(), Error> {
        let current = self
            .first(
                "SELECT value FROM marcus_meta WHERE key = 'schema_version'",
                &[],
            )
            .ok()
            .flatten()
            .and_then(|row| text(&row, 0).ok())
            .and_then(|v| v.parse::<i64>().ok());
        if current == Some(SCHEMA_VERSION) {
            return Ok(());
        }
        self.execute("BEGIN", &[])?;
        let created = self.create_schema();
        let end = if created.is_ok() {
            "COMMIT"
        } else {
            "ROLLBACK"
        };
        let ended = self.execute(end, &[]);
        created?;
        ended.map(|_| ())
    }

    fn create_schema(&self) -> Result<(), Error> {
        self.execute("SET LOCAL client_min_messages = warning", &[])?;
        self.execute(
            "SELECT pg_advisory_xact_lock($1)",
            &[ParameterValue::Int64(SCHEMA_LOCK)],
        )?;
        self.execute(
            "CREATE TABLE IF NOT EXISTS marcus_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
            &[],
        )?;
        let version = self
            .first(
                "SELECT value FROM marcus_meta WHERE key = 'schema_version'",
                &[],
            )?
            .and_then(|row| text(&row, 0).ok())
            .and_then(|v| v.parse::<i64>().ok());
        if let Some(v) = version
            && v > SCHEMA_VERSION
        {
            return Err(Error::Unavailable(format!(
                "database schema version {v} is newer than this adapter understands ({SCHEMA_VERSION}); upgrade marcus"
            )));
        }
        for statement in marcus_core::store::postgres_sql::SCHEMA {
            self.execute(statement, &[])?;
        }
        self.execute(
            "INSERT INTO marcus_meta (key, value) VALUES ('schema_version', $1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[s(&SCHEMA_VERSION.to_string())],
        )?;
        Ok(())
    }

    fn version_of(&self, collection: &str, id: &str) -> Result<Option<u64>, Error> {
        self.first(
            "SELECT version FROM documents WHERE collection = $1 AND id = $2",
            &[s(collection), s(id)],
        )?
        .map(|row| int(&row, 0))
        .transpose()
    }

    /// One conditional statement; `None` when the precondition failed.
    fn put_one(&self, w: &Write, now: u64) -> Result<Option<Document>, Error> {
        use crate::bindings::storage::Expect;
        let base = [s(&w.collection), s(&w.id), s(&w.data), n(now)];
        let row = match w.expect {
            Expect::Any => self.first(
                &format!(
                    "INSERT INTO documents (collection, id, data, version, created_at, updated_at)
                     VALUES ($1, $2, $3::text::jsonb, 1, $4, $4)
                     ON CONFLICT (collection, id) DO UPDATE SET
                       data = excluded.data, version = documents.version + 1,
                       updated_at = excluded.updated_at
                     RETURNING {COLUMNS}"
                ),
                &base,
            )?,
            Expect::Absent => self.first(
                &format!(
                    "INSERT INTO documents (collection, id, data, version, created_at, updated_at)
                     VALUES ($1, $2, $3::text::jsonb, 1, $4, $4)
                     ON CONFLICT (collection, id) DO NOTHING
                     RETURNING {COLUMNS}"
                ),
                &base,
            )?,
            Expect::Version(v) => {
                let mut params = base.to_vec();
                params.push(n(v));
                self.first(
                    &format!(
                        "UPDATE documents SET data = $3::text::jsonb, version = version + 1,
                           updated_at = $4
                         WHERE collection = $1 AND id = $2 AND version = $5
                         RETURNING {COLUMNS}"
                    ),
                    &params,
                )?
            }
        };
        row.as_deref().map(document).transpose()
    }

    fn put_all(&self, writes: &[Write], now: u64) -> Result<Vec<Document>, Error> {
        let mut docs = Vec::with_capacity(writes.len());
        for w in writes {
            match self.put_one(w, now)? {
                Some(doc) => docs.push(doc),
                None => {
                    let current = self.version_of(&w.collection, &w.id)?;
                    return Err(conflict(&w.collection, &w.id, w.expect, current));
                }
            }
        }
        Ok(docs)
    }
}

impl DocumentStore for PostgresDocuments {
    fn get(&self, collection: &str, id: &str) -> Result<Option<Document>, Error> {
        self.first(
            &format!("SELECT {COLUMNS} FROM documents WHERE collection = $1 AND id = $2"),
            &[s(collection), s(id)],
        )?
        .as_deref()
        .map(document)
        .transpose()
    }

    fn put(&self, w: &Write, now: u64) -> Result<Document, Error> {
        match self.put_one(w, now)? {
            Some(doc) => Ok(doc),
            None => {
                let current = self.version_of(&w.collection, &w.id)?;
                let expect = if holds(w.expect, current) {
                    // It held on a second look: another writer changed it in between.
                    crate::bindings::storage::Expect::Any
                } else {
                    w.expect
                };
                Err(conflict(&w.collection, &w.id, expect, current))
            }
        }
    }

    fn put_many(&self, writes: &[Write], now: u64) -> Result<Vec<Document>, Error> {
        self.execute("BEGIN", &[])?;
        match self.put_all(writes, now) {
            Ok(docs) => {
                self.execute("COMMIT", &[])?;
                Ok(docs)
            }
            Err(e) => {
                let _ = self.execute("ROLLBACK", &[]);
                Err(e)
            }
        }
    }

    fn delete(&self, collection: &str, id: &str, expected: Option<u64>) -> Result<bool, Error> {
        let deleted = match expected {
            None => self.first(
                "DELETE FROM documents WHERE collection = $1 AND id = $2 RETURNING version",
                &[s(collection), s(id)],
            )?,
            Some(v) => self.first(
                "DELETE FROM documents WHERE collection = $1 AND id = $2 AND version = $3 RETURNING version",
                &[s(collection), s(id), n(v)],
            )?,
        };
        match (deleted, expected) {
            (Some(_), _) => Ok(true),
            (None, None) => Ok(false),
            (None, Some(want)) => match self.version_of(collection, id)? {
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
        let (cond, fparams) = filter_sql(filters, 3)?;
        let mut params = vec![s(collection), s(cursor.unwrap_or(""))];
        params.extend(fparams);
        params.push(n(limit as u64 + 1));
        let sql = format!(
            "SELECT {COLUMNS} FROM documents WHERE collection = $1 AND id > $2{cond} ORDER BY id LIMIT ${}",
            params.len()
        );
        let mut documents = self
            .rows(&sql, &params)?
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
        let (cond, fparams) = filter_sql(filters, 2)?;
        let mut params = vec![s(collection)];
        params.extend(fparams);
        let row = self.first(
            &format!("SELECT COUNT(*) FROM documents WHERE collection = $1{cond}"),
            &params,
        )?;
        Ok(row.map(|r| int(&r, 0)).transpose()?.unwrap_or(0))
    }

    fn list_collections(&self) -> Result<Vec<String>, Error> {
        self.rows(
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
        self.rows(
            &format!(
                "SELECT {COLUMNS} FROM documents WHERE collection = $1 AND id > $2 ORDER BY id LIMIT $3"
            ),
            &[s(collection), s(after.unwrap_or("")), n(limit as u64)],
        )?
        .iter()
        .map(|row| document(row))
        .collect()
    }

    fn stats(&self) -> Result<StorageStats, Error> {
        let row = self.first(
            "SELECT COUNT(*), pg_total_relation_size('documents') FROM documents",
            &[],
        )?;
        let (documents, size_bytes) = match row {
            Some(r) => (int(&r, 0)?, int(&r, 1)?),
            None => (0, 0),
        };
        Ok(StorageStats {
            documents,
            size_bytes,
        })
    }
}
