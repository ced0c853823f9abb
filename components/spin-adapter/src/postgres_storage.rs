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
use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// Schema version this adapter writes and understands (the native host's as well).
const SCHEMA_VERSION: i64 = 1;
/// Lock id that serialises schema creation, the native host's.
const SCHEMA_LOCK: i64 = 0x6d61_7263_7573;
const COLUMNS: &str = "collection, id, data::text, version, created_at, updated_at";

thread_local! {
    static SCHEMA_CHECKED: Cell<bool> = const { Cell::new(false) };
    /// This instance's connection. Spin makes a new instance for every request and gives
    /// every open its own server connection, so this is one connection per request instead
    /// of one per storage call.
    static THIS_REQUEST: RefCell<Option<Rc<PostgresDocuments>>> = const { RefCell::new(None) };
}

/// The PostgreSQL backend.
pub struct PostgresDocuments {
    conn: Connection,
    location: String,
    /// Set when a statement failed: the connection's state is unknown (a broken link, a
    /// transaction that did not end), so the next call opens a new one.
    failed: Cell<bool>,
}

fn s(v: &str) -> ParameterValue {
    ParameterValue::Str(v.to_string())
}

fn n(v: u64) -> ParameterValue {
    ParameterValue::Int64(v as i64)
}

/// One result row, by column name.
type Row = serde_json::Map<String, serde_json::Value>;

fn text(row: &Row, column: &str) -> Result<String, Error> {
    match row.get(column) {
        Some(serde_json::Value::String(v)) => Ok(v.clone()),
        other => Err(Error::Internal(format!(
            "postgres: unexpected value in column {column}: {other:?}"
        ))),
    }
}

fn int(row: &Row, column: &str) -> Result<u64, Error> {
    match row.get(column) {
        Some(serde_json::Value::Null) => Ok(0),
        Some(serde_json::Value::Number(v)) if let Some(v) = v.as_u64() => Ok(v),
        other => Err(Error::Internal(format!(
            "postgres: unexpected value in column {column}: {other:?}"
        ))),
    }
}

fn document(row: &Row) -> Result<Document, Error> {
    Ok(Document {
        collection: text(row, "collection")?,
        id: text(row, "id")?,
        data: text(row, "data")?,
        version: int(row, "version")?,
        created_at: int(row, "created_at")?,
        updated_at: int(row, "updated_at")?,
    })
}

/// `statement` rewritten to answer exactly one row: its rows as one JSON array. Spin's
/// `query` (4.x) never returns for a statement that yields no rows (it waits for the column
/// list a first row would bring), so no statement may reach it that can yield none. A
/// data-modifying statement works too, as a `WITH` query.
fn one_row(statement: &str) -> String {
    format!("WITH q AS ({statement}) SELECT COALESCE(json_agg(q), '[]'::json)::text FROM q")
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
    /// The request's connection to `url`, opened on first use (and again after a failed
    /// statement); the schema is checked once per instance.
    pub fn for_this_request(url: &str) -> Result<Rc<Self>, Error> {
        if let Some(store) = THIS_REQUEST.with_borrow(|s| s.clone())
            && !store.failed.get()
        {
            return Ok(store);
        }
        THIS_REQUEST.set(None);
        let store = Rc::new(Self::open(url)?);
        THIS_REQUEST.set(Some(store.clone()));
        Ok(store)
    }

    /// Connects to `url` and makes sure the schema is there, once per instance.
    fn open(url: &str) -> Result<Self, Error> {
        let location = settings::without_credentials(url);
        let conn = Connection::open(url).map_err(|e| Self::error(&location, e))?;
        let store = Self {
            conn,
            location,
            failed: Cell::new(false),
        };
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

    /// The rows of a query (or of a statement with `RETURNING`), by column name.
    fn rows(&self, sql: &str, params: &[ParameterValue]) -> Result<Vec<Row>, Error> {
        let set = self.conn.query(&one_row(sql), params).map_err(|e| {
            self.failed.set(true);
            Self::error(&self.location, e)
        })?;
        let json = match set.rows.first().and_then(|r| r.first()) {
            Some(DbValue::Str(json)) => json,
            other => {
                return Err(Error::Internal(format!(
                    "postgres: a query answered {other:?} instead of its rows as JSON"
                )));
            }
        };
        let rows: Vec<serde_json::Value> = serde_json::from_str(json)
            .map_err(|e| Error::Internal(format!("postgres: rows as JSON: {e}")))?;
        rows.into_iter()
            .map(|r| match r {
                serde_json::Value::Object(row) => Ok(row),
                other => Err(Error::Internal(format!("postgres: a row as {other}"))),
            })
            .collect()
    }

    fn first(&self, sql: &str, params: &[ParameterValue]) -> Result<Option<Row>, Error> {
        Ok(self.rows(sql, params)?.into_iter().next())
    }

    fn execute(&self, sql: &str, params: &[ParameterValue]) -> Result<u64, Error> {
        self.conn.execute(sql, params).map_err(|e| {
            self.failed.set(true);
            Self::error(&self.location, e)
        })
    }

    fn ensure_schema(&self) -> Result<(), Error> {
        let current = self
            .first(
                "SELECT value FROM marcus_meta WHERE key = 'schema_version'",
                &[],
            )
            .ok()
            .flatten()
            .and_then(|row| text(&row, "value").ok())
            .and_then(|v| v.parse::<i64>().ok());
        // A missing table is an answer here (an empty database), and leaves no
        // transaction behind: the connection is fine.
        self.failed.set(false);
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
        // Spin gives a request no deadline: a schema lock held by a stuck writer must end
        // this wait with an error, not hold the request forever.
        self.execute("SET LOCAL lock_timeout = '15s'", &[])?;
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
            .and_then(|row| text(&row, "value").ok())
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
        .map(|row| int(&row, "version"))
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
        row.as_ref().map(document).transpose()
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
        .as_ref()
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
            .map(document)
            .collect::<Result<Vec<_>, _>>()?;
        // An aggregate keeps no order of its own; ids are unique and collate as bytes.
        documents.sort_by(|a, b| a.id.cmp(&b.id));
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
            &format!("SELECT COUNT(*) AS count FROM documents WHERE collection = $1{cond}"),
            &params,
        )?;
        Ok(row.map(|r| int(&r, "count")).transpose()?.unwrap_or(0))
    }

    fn list_collections(&self) -> Result<Vec<String>, Error> {
        self.rows(
            "SELECT DISTINCT collection FROM documents ORDER BY collection",
            &[],
        )?
        .iter()
        .map(|r| text(r, "collection"))
        .collect::<Result<Vec<_>, _>>()
        .map(|mut names| {
            names.sort();
            names
        })
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
        .map(document)
        .collect::<Result<Vec<_>, _>>()
        .map(|mut documents| {
            documents.sort_by(|a, b| a.id.cmp(&b.id));
            documents
        })
    }

    fn stats(&self) -> Result<StorageStats, Error> {
        let row = self.first(
            "SELECT COUNT(*) AS documents, pg_total_relation_size('documents') AS size_bytes FROM documents",
            &[],
        )?;
        let (documents, size_bytes) = match row {
            Some(r) => (int(&r, "documents")?, int(&r, "size_bytes")?),
            None => (0, 0),
        };
        Ok(StorageStats {
            documents,
            size_bytes,
        })
    }
}
