//! Storage on PostgreSQL through Spin's outbound PostgreSQL (`spin:postgres`), used when the
//! `database_url` variable is set. The shared PostgreSQL dialect's schema and statements (the
//! native PostgreSQL backend's), so Spin instances and native hosts can share one database:
//! each single write is one conditional statement, a batch is one transaction on the
//! connection.
//!
//! Field indexes are not created here: a Spin instance lives for one request, so it would
//! have to look them up on every request; the GIN index serves the filters, and a database
//! shared with a native host gets the indexes from the host.

use crate::bindings::Error;
use crate::bindings::postgres::{self, Connection, DbValue, ParameterValue};
use crate::bindings::storage::{Document, DocumentKey, FieldFilter, Page, StorageStats, Write};
use crate::checks::write_ref;
use crate::document_store::{DocumentStore, conflict, keys_json};
use crate::field_filters::pairs;
use crate::settings;
use marcus_core::store::get_many::in_request_order;
use marcus_core::store::page::finish_page;
use marcus_core::store::postgres_sql::{documents, schema};
use marcus_core::store::rules;
use marcus_core::store::schema_version::{self, SCHEMA_VERSION};
use marcus_core::store::statement::{SqlValue, Statement};
use std::cell::{Cell, RefCell};
use std::rc::Rc;

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

/// A shared statement's parameter as Spin's value.
fn parameter(value: &SqlValue) -> ParameterValue {
    match value {
        SqlValue::Integer(i) => ParameterValue::Int64(*i),
        SqlValue::Real(r) => ParameterValue::Floating64(*r),
        SqlValue::Text(t) => ParameterValue::Str(t.clone()),
    }
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

    /// The rows of a statement (a query, or a write with `RETURNING`), by column name.
    fn rows(&self, statement: &Statement) -> Result<Vec<Row>, Error> {
        let params: Vec<ParameterValue> = statement.params.iter().map(parameter).collect();
        let set = self
            .conn
            .query(&one_row(&statement.sql), &params)
            .map_err(|e| {
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

    fn first(&self, statement: &Statement) -> Result<Option<Row>, Error> {
        Ok(self.rows(statement)?.into_iter().next())
    }

    /// Runs a statement for its effect only (Spin's `execute` answers without rows).
    fn execute(&self, statement: &Statement) -> Result<u64, Error> {
        let params: Vec<ParameterValue> = statement.params.iter().map(parameter).collect();
        self.conn.execute(&statement.sql, &params).map_err(|e| {
            self.failed.set(true);
            Self::error(&self.location, e)
        })
    }

    fn recorded_schema_version(&self) -> Result<Option<i64>, Error> {
        let recorded = self
            .first(&schema::read_schema_version())?
            .and_then(|row| text(&row, "value").ok());
        Ok(schema_version::recorded(recorded.as_deref()))
    }

    fn ensure_schema(&self) -> Result<(), Error> {
        let current = self.recorded_schema_version().ok().flatten();
        // A missing table is an answer here (an empty database), and leaves no
        // transaction behind: the connection is fine.
        self.failed.set(false);
        if current == Some(SCHEMA_VERSION) {
            return Ok(());
        }
        self.execute(&Statement::plain("BEGIN"))?;
        let created = self.create_schema();
        let end = if created.is_ok() {
            "COMMIT"
        } else {
            "ROLLBACK"
        };
        let ended = self.execute(&Statement::plain(end));
        created?;
        ended.map(|_| ())
    }

    fn create_schema(&self) -> Result<(), Error> {
        // Spin gives a request no deadline: a schema lock held by a stuck writer must end
        // this wait with an error, not hold the request forever.
        self.execute(&Statement::plain("SET LOCAL lock_timeout = '15s'"))?;
        for step in schema::start_upgrade() {
            self.execute(&step)?;
        }
        schema_version::refuse_newer(self.recorded_schema_version()?)
            .map_err(Error::Unavailable)?;
        for step in schema::finish_upgrade() {
            self.execute(&step)?;
        }
        Ok(())
    }

    fn version_of(&self, collection: &str, id: &str) -> Result<Option<u64>, Error> {
        self.first(&documents::version_of(collection, id))?
            .map(|row| int(&row, "version"))
            .transpose()
    }

    /// One write as its conditional statement; a write that changed nothing is the conflict
    /// the version read next explains.
    fn put_one(&self, w: &Write, now: u64) -> Result<Document, Error> {
        match self.first(&documents::put(write_ref(w), now))? {
            Some(row) => document(&row),
            None => {
                let current = self.version_of(&w.collection, &w.id)?;
                Err(conflict(&w.collection, &w.id, w.expect, current))
            }
        }
    }

    fn put_all(&self, writes: &[Write], now: u64) -> Result<Vec<Document>, Error> {
        writes.iter().map(|w| self.put_one(w, now)).collect()
    }
}

impl DocumentStore for PostgresDocuments {
    fn get(&self, collection: &str, id: &str) -> Result<Option<Document>, Error> {
        self.first(&documents::get(collection, id))?
            .as_ref()
            .map(document)
            .transpose()
    }

    fn get_many(&self, keys: &[DocumentKey]) -> Result<Vec<Option<Document>>, Error> {
        let found = self
            .rows(&documents::get_many(&keys_json(keys)))?
            .iter()
            .map(|row| Ok((int(row, "key_position")? as usize, document(row)?)))
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(in_request_order(keys.len(), found))
    }

    fn put(&self, w: &Write, now: u64) -> Result<Document, Error> {
        self.put_one(w, now)
    }

    fn put_many(&self, writes: &[Write], now: u64) -> Result<Vec<Document>, Error> {
        self.execute(&Statement::plain("BEGIN"))?;
        match self.put_all(writes, now) {
            Ok(docs) => {
                self.execute(&Statement::plain("COMMIT"))?;
                Ok(docs)
            }
            Err(e) => {
                let _ = self.execute(&Statement::plain("ROLLBACK"));
                Err(e)
            }
        }
    }

    fn delete(&self, collection: &str, id: &str, expected: Option<u64>) -> Result<bool, Error> {
        if self
            .first(&documents::delete(collection, id, expected))?
            .is_some()
        {
            return Ok(true);
        }
        let current = match expected {
            Some(_) => self.version_of(collection, id)?,
            None => None,
        };
        Ok(rules::missed_delete(collection, id, expected, current)?)
    }

    fn query(
        &self,
        collection: &str,
        filters: &[FieldFilter],
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Page, Error> {
        let statement = documents::query(collection, &pairs(filters), limit, cursor)?;
        let mut documents = self
            .rows(&statement)?
            .iter()
            .map(document)
            .collect::<Result<Vec<_>, _>>()?;
        // An aggregate keeps no order of its own; ids are unique and collate as bytes.
        documents.sort_by(|a, b| a.id.cmp(&b.id));
        let next_cursor = finish_page(&mut documents, limit, |d| &d.id);
        Ok(Page {
            documents,
            next_cursor,
        })
    }

    fn count(&self, collection: &str, filters: &[FieldFilter]) -> Result<u64, Error> {
        let row = self.first(&documents::count(collection, &pairs(filters))?)?;
        Ok(row.map(|r| int(&r, "count")).transpose()?.unwrap_or(0))
    }

    fn list_collections(&self) -> Result<Vec<String>, Error> {
        self.rows(&Statement::plain(documents::LIST_COLLECTIONS))?
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
        self.rows(&documents::scan(collection, after, limit))?
            .iter()
            .map(document)
            .collect::<Result<Vec<_>, _>>()
            .map(|mut documents| {
                documents.sort_by(|a, b| a.id.cmp(&b.id));
                documents
            })
    }

    fn stats(&self) -> Result<StorageStats, Error> {
        let row = self.first(&Statement::plain(documents::STATS))?;
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
