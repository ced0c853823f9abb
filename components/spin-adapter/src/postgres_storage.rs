//! Storage on PostgreSQL through Spin's outbound PostgreSQL (`spin:postgres`), used when the
//! `database_url` variable is set. The shared PostgreSQL dialect's schema and statements (the
//! native PostgreSQL backend's), so Spin instances and native hosts can share one database:
//! each single write is one conditional statement, a batch is one transaction.
//!
//! Every call is one transaction in its tenant's scope: `BEGIN`, then the app role and the
//! tenant as transaction-local settings (`schema::enter_scope`), then the statements, then
//! `COMMIT`. Row-level security then admits only that tenant's rows, a second fence behind
//! the tenant every statement names. Spin's `execute` prepares its statement (one command
//! per call), so the scope's commands go one by one. Schema upgrades run as the connecting
//! user, the tables' owner.
//!
//! Field indexes are not created here: a Spin instance lives for one request, so it would
//! have to look them up on every request; the GIN index serves the filters, and a database
//! shared with a native host gets the indexes from the host.

use crate::bindings::Error;
use crate::bindings::postgres::{self, Connection, DbValue, ParameterValue};
use crate::bindings::storage::{Document, DocumentKey, FieldFilter, Page, StorageStats, Write};
use crate::checks::write_ref;
use crate::document_store::{DocumentStore, SCOPES, conflict, keys_json};
use crate::field_filters::pairs;
use crate::settings;
use marcus_core::store::get_many::in_request_order;
use marcus_core::store::page::finish_page;
use marcus_core::store::postgres_sql::{documents, schema};
use marcus_core::store::rules;
use marcus_core::store::schema_version::{self, SCHEMA_VERSION};
use marcus_core::store::statement::{SqlValue, Statement};
use marcus_identity::tenant::{self, SERVER_SCOPE};
use std::cell::{Cell, RefCell};
use std::rc::Rc;

thread_local! {
    static SCHEMA_CHECKED: Cell<bool> = const { Cell::new(false) };
    /// This instance's connection. Spin makes a new instance for every request and gives
    /// every open its own server connection, so this is one connection per request instead
    /// of one per storage call.
    static THIS_REQUEST: RefCell<Option<Rc<PgConnection>>> = const { RefCell::new(None) };
}

/// The request's connection to PostgreSQL.
pub struct PgConnection {
    conn: Connection,
    location: String,
    /// Set when a statement failed: the connection's state is unknown (a broken link, a
    /// transaction that did not end), so the next call opens a new one.
    failed: Cell<bool>,
}

/// The PostgreSQL backend in one scope, on the request's connection.
pub struct PostgresDocuments {
    conn: Rc<PgConnection>,
    tenant: String,
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

impl PgConnection {
    /// The request's connection to `url`, opened on first use (and again after a failed
    /// statement); the schema is checked once per instance.
    pub fn for_this_request(url: &str) -> Result<Rc<Self>, Error> {
        if let Some(conn) = THIS_REQUEST.with_borrow(|c| c.clone())
            && !conn.failed.get()
        {
            return Ok(conn);
        }
        THIS_REQUEST.set(None);
        let conn = Rc::new(Self::open(url)?);
        THIS_REQUEST.set(Some(conn.clone()));
        Ok(conn)
    }

    /// Connects to `url` and makes sure the schema is there, once per instance.
    fn open(url: &str) -> Result<Self, Error> {
        let location = settings::without_credentials(url);
        let conn = Connection::open(url).map_err(|e| Self::error(&location, e))?;
        let opened = Self {
            conn,
            location,
            failed: Cell::new(false),
        };
        if !SCHEMA_CHECKED.get() {
            opened.ensure_schema()?;
            SCHEMA_CHECKED.set(true);
        }
        Ok(opened)
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

    /// Runs `work` in one transaction, committed when it succeeds and rolled back when it
    /// fails (a batch that met a conflict leaves nothing behind).
    fn transaction<T>(&self, work: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
        self.execute(&Statement::plain("BEGIN"))?;
        let done = work();
        let end = if done.is_ok() { "COMMIT" } else { "ROLLBACK" };
        let ended = self.execute(&Statement::plain(end));
        let done = done?;
        ended?;
        Ok(done)
    }

    /// Runs `work` in one transaction of `tenant`'s scope: as the app role, with the tenant
    /// as the transaction-local setting the row-level security policies compare every row
    /// with. `tenant` is a checked scope name; the core's `enter_scope` quotes it all the
    /// same.
    fn in_scope<T>(
        &self,
        tenant: &str,
        work: impl FnOnce(&Self) -> Result<T, Error>,
    ) -> Result<T, Error> {
        self.transaction(|| {
            for command in scope_commands(tenant) {
                self.execute(&Statement::plain(command))?;
            }
            work(self)
        })
    }

    /// The recorded schema version, read as the owner in the server scope (the metadata
    /// table's policy admits no other); `None` for a database without Marcus's tables.
    fn recorded_schema_version(&self) -> Option<i64> {
        let read = self.transaction(|| {
            self.execute(&schema::server_scope_setting(SERVER_SCOPE))?;
            self.read_schema_version()
        });
        // A missing table is an answer here (an empty database), and the transaction it
        // broke was rolled back: the connection is fine.
        self.failed.set(false);
        read.ok().flatten()
    }

    fn read_schema_version(&self) -> Result<Option<i64>, Error> {
        let recorded = self
            .first(&schema::read_schema_version())?
            .and_then(|row| text(&row, "value").ok());
        Ok(schema_version::recorded(recorded.as_deref()))
    }

    fn ensure_schema(&self) -> Result<(), Error> {
        if self.recorded_schema_version() == Some(SCHEMA_VERSION) {
            return Ok(());
        }
        self.transaction(|| self.upgrade_schema())
    }

    /// The upgrade, as the owner inside its transaction: the shared steps under the schema
    /// lock, the version read again under it (another host may have just finished), the
    /// rest for that version.
    fn upgrade_schema(&self) -> Result<(), Error> {
        // Spin gives a request no deadline: a schema lock held by a stuck writer must end
        // this wait with an error, not hold the request forever.
        self.execute(&Statement::plain("SET LOCAL lock_timeout = '15s'"))?;
        for step in schema::start_upgrade(SERVER_SCOPE) {
            self.execute(&step)?;
        }
        let recorded = self.read_schema_version()?;
        if recorded == Some(SCHEMA_VERSION) {
            return Ok(());
        }
        schema_version::refuse_newer(recorded).map_err(Error::Unavailable)?;
        for step in schema::finish_upgrade(recorded, SCOPES) {
            self.execute(&step)?;
        }
        Ok(())
    }
}

/// The commands that enter `tenant`'s scope, one per `execute`: `schema::enter_scope` is
/// one simple query of several commands, which Spin's prepared `execute` cannot run whole.
/// A checked scope name holds no `;` or quote, so the split is exact.
fn scope_commands(tenant: &str) -> Vec<String> {
    schema::enter_scope(tenant)
        .split(';')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect()
}

impl PostgresDocuments {
    /// The documents of `tenant` (a checked scope) on the request's connection to `url`.
    pub fn open(url: &str, tenant: &str) -> Result<Self, Error> {
        if !tenant::is_scope(tenant) {
            return Err(Error::Internal(format!(
                "{tenant:?} is not a storage scope"
            )));
        }
        Ok(Self {
            conn: PgConnection::for_this_request(url)?,
            tenant: tenant.to_string(),
        })
    }

    /// Runs `work` in one transaction of this store's scope.
    fn scoped<T>(&self, work: impl FnOnce(&PgConnection) -> Result<T, Error>) -> Result<T, Error> {
        self.conn.in_scope(&self.tenant, work)
    }

    fn version_of(
        &self,
        c: &PgConnection,
        collection: &str,
        id: &str,
    ) -> Result<Option<u64>, Error> {
        c.first(&documents::version_of(&self.tenant, collection, id))?
            .map(|row| int(&row, "version"))
            .transpose()
    }

    /// One write as its conditional statement; a write that changed nothing is the conflict
    /// the version read next explains.
    fn put_one(&self, c: &PgConnection, w: &Write, now: u64) -> Result<Document, Error> {
        match c.first(&documents::put(&self.tenant, write_ref(w), now))? {
            Some(row) => document(&row),
            None => {
                let current = self.version_of(c, &w.collection, &w.id)?;
                Err(conflict(&w.collection, &w.id, w.expect, current))
            }
        }
    }
}

impl DocumentStore for PostgresDocuments {
    fn get(&self, collection: &str, id: &str) -> Result<Option<Document>, Error> {
        self.scoped(|c| c.first(&documents::get(&self.tenant, collection, id)))?
            .as_ref()
            .map(document)
            .transpose()
    }

    fn get_many(&self, keys: &[DocumentKey]) -> Result<Vec<Option<Document>>, Error> {
        let found = self
            .scoped(|c| c.rows(&documents::get_many(&self.tenant, &keys_json(keys))))?
            .iter()
            .map(|row| Ok((int(row, "key_position")? as usize, document(row)?)))
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(in_request_order(keys.len(), found))
    }

    fn put(&self, w: &Write, now: u64) -> Result<Document, Error> {
        self.scoped(|c| self.put_one(c, w, now))
    }

    /// All writes in one transaction: a conflict rolls back the writes before it.
    fn put_many(&self, writes: &[Write], now: u64) -> Result<Vec<Document>, Error> {
        self.scoped(|c| writes.iter().map(|w| self.put_one(c, w, now)).collect())
    }

    fn delete(&self, collection: &str, id: &str, expected: Option<u64>) -> Result<bool, Error> {
        self.scoped(|c| {
            if c.first(&documents::delete(&self.tenant, collection, id, expected))?
                .is_some()
            {
                return Ok(true);
            }
            let current = match expected {
                Some(_) => self.version_of(c, collection, id)?,
                None => None,
            };
            Ok(rules::missed_delete(collection, id, expected, current)?)
        })
    }

    fn query(
        &self,
        collection: &str,
        filters: &[FieldFilter],
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Page, Error> {
        let statement = documents::query(
            &self.tenant,
            collection,
            &pairs(filters),
            limit,
            cursor,
            false,
        )?;
        let mut documents = self
            .scoped(|c| c.rows(&statement))?
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
        let statement = documents::count(&self.tenant, collection, &pairs(filters), false)?;
        let row = self.scoped(|c| c.first(&statement))?;
        Ok(row.map(|r| int(&r, "count")).transpose()?.unwrap_or(0))
    }

    fn list_collections(&self) -> Result<Vec<String>, Error> {
        self.scoped(|c| c.rows(&documents::list_collections(&self.tenant)))?
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
        self.scoped(|c| c.rows(&documents::scan(&self.tenant, collection, after, limit)))?
            .iter()
            .map(document)
            .collect::<Result<Vec<_>, _>>()
            .map(|mut documents| {
                documents.sort_by(|a, b| a.id.cmp(&b.id));
                documents
            })
    }

    fn stats(&self) -> Result<StorageStats, Error> {
        let row = self.scoped(|c| c.first(&documents::stats(&self.tenant)))?;
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
