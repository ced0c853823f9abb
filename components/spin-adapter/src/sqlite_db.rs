//! The Spin SQLite database `default` and Marcus's schema in it (the shared SQLite dialect's,
//! plus the realtime event log's table).
//!
//! Spin serves every instance of an app from one shared SQLite connection, so a transaction
//! spread over several `execute` calls could interleave with another request's statements.
//! Every write here is therefore a single statement, which SQLite runs atomically. The one
//! exception is a schema upgrade, which must be all or nothing: it runs in a transaction,
//! and the other instances wait for the recorded version instead of using the schema
//! half made.

use crate::bindings::Error;
use crate::bindings::sqlite::{self, Connection, Value};
use crate::document_store::SCOPES;
use marcus_core::store::schema_version::{self, SCHEMA_VERSION};
use marcus_core::store::sqlite_sql::schema;
use marcus_core::store::statement::{SqlValue, Statement};
use marcus_identity::tenant::{self, DEFAULT_TENANT};
use std::cell::Cell;
use std::time::Duration;

/// The Spin database label Marcus uses.
pub const DATABASE: &str = "default";

thread_local! {
    static SCHEMA_CHECKED: Cell<bool> = const { Cell::new(false) };
}

/// How often, and how many times, an instance looks again while another upgrades the schema
/// on the shared connection (about 15 s in all, as PostgreSQL's lock timeout).
const UPGRADE_WAIT_STEP: Duration = Duration::from_millis(25);
const UPGRADE_WAIT_STEPS: u32 = 600;

/// An open database whose schema is known to be current.
pub struct Db {
    conn: Connection,
}

/// Maps a Spin SQLite error to the platform's error.
pub fn to_platform(e: sqlite::Error) -> Error {
    match e {
        sqlite::Error::NoSuchDatabase => Error::Unavailable(format!(
            "Spin SQLite database {DATABASE:?} does not exist; add sqlite_databases = [\"{DATABASE}\"]"
        )),
        sqlite::Error::AccessDenied => Error::Unavailable(format!(
            "this component is not granted Spin SQLite database {DATABASE:?} \
             (sqlite_databases in spin.toml, dependencies_inherit_configuration)"
        )),
        sqlite::Error::InvalidConnection => {
            Error::Unavailable("the Spin SQLite connection is no longer valid".into())
        }
        sqlite::Error::DatabaseFull => {
            Error::Unavailable("the Spin SQLite database is full".into())
        }
        sqlite::Error::Io(message) => Error::Internal(format!("sqlite: {message}")),
    }
}

impl Db {
    /// Opens the database, creating or checking the schema once per instance.
    pub fn open() -> Result<Self, Error> {
        crate::request_scope::not_refused()?;
        let db = Self {
            conn: Connection::open(DATABASE).map_err(to_platform)?,
        };
        if !SCHEMA_CHECKED.get() {
            db.ensure_schema()?;
            SCHEMA_CHECKED.set(true);
        }
        Ok(db)
    }

    /// Runs one statement and returns its rows (RETURNING rows for writes).
    pub fn rows(&self, sql: &str, params: &[Value]) -> Result<Vec<Vec<Value>>, Error> {
        self.conn
            .execute(sql, params)
            .map(|r| r.rows.into_iter().map(|row| row.values).collect())
            .map_err(to_platform)
    }

    /// Runs one statement and returns its first row, if any.
    pub fn first(&self, sql: &str, params: &[Value]) -> Result<Option<Vec<Value>>, Error> {
        Ok(self.rows(sql, params)?.into_iter().next())
    }

    /// Runs a shared statement and returns its rows.
    pub fn all(&self, statement: &Statement) -> Result<Vec<Vec<Value>>, Error> {
        let params: Vec<Value> = statement
            .params
            .iter()
            .map(|p| match p {
                SqlValue::Integer(i) => Value::Integer(*i),
                SqlValue::Real(r) => Value::Real(*r),
                SqlValue::Text(t) => Value::Text(t.clone()),
            })
            .collect();
        self.rows(&statement.sql, &params)
    }

    /// Runs a shared statement and returns its first row, if any.
    pub fn one(&self, statement: &Statement) -> Result<Option<Vec<Value>>, Error> {
        Ok(self.all(statement)?.into_iter().next())
    }

    /// The recorded schema version; `None` for a new database (no metadata table yet).
    fn recorded_version(&self) -> Option<i64> {
        let recorded = self
            .one(&schema::read_schema_version())
            .ok()
            .flatten()
            .and_then(|row| text(&row, 0).ok());
        schema_version::recorded(recorded.as_deref())
    }

    /// Brings the schema to this build's version, in one transaction. Another instance
    /// upgrading at the same moment holds the shared connection's transaction: this one
    /// waits until that upgrade is recorded rather than run its own inside it.
    fn ensure_schema(&self) -> Result<(), Error> {
        for _ in 0..UPGRADE_WAIT_STEPS {
            let recorded = self.recorded_version();
            if recorded == Some(SCHEMA_VERSION) {
                return Ok(());
            }
            schema_version::refuse_newer(recorded).map_err(Error::Unavailable)?;
            if self.rows("BEGIN IMMEDIATE", &[]).is_err() {
                std::thread::sleep(UPGRADE_WAIT_STEP);
                continue;
            }
            let upgraded = self.upgrade();
            let end = if upgraded.is_ok() {
                "COMMIT"
            } else {
                "ROLLBACK"
            };
            let ended = self.rows(end, &[]);
            upgraded?;
            return ended.map(drop);
        }
        Err(Error::Unavailable(
            "the Spin SQLite schema is being upgraded by another request; try again".into(),
        ))
    }

    /// The upgrade's statements, inside its transaction: the version is read again there,
    /// since another instance may have finished in between. A schema-1 database's event
    /// log becomes the default tenant's, as its documents do.
    fn upgrade(&self) -> Result<(), Error> {
        self.rows(schema::META_TABLE, &[])?;
        let recorded = self.recorded_version();
        if recorded == Some(SCHEMA_VERSION) {
            return Ok(());
        }
        schema_version::refuse_newer(recorded).map_err(Error::Unavailable)?;
        for step in schema::upgrade(recorded, SCOPES) {
            self.all(&step)?;
        }
        self.rows(schema::REALTIME_EVENTS, &[])?;
        if recorded == Some(1) {
            self.rows(
                "UPDATE realtime_events SET channel = ? || channel",
                &[t(&tenant::scoped(DEFAULT_TENANT, ""))],
            )?;
        }
        Ok(())
    }
}

/// Column `i` of a row as text.
pub fn text(row: &[Value], i: usize) -> Result<String, Error> {
    match row.get(i) {
        Some(Value::Text(s)) => Ok(s.clone()),
        other => Err(unexpected(i, other)),
    }
}

/// Column `i` of a row as an integer.
pub fn int(row: &[Value], i: usize) -> Result<i64, Error> {
    match row.get(i) {
        Some(Value::Integer(n)) => Ok(*n),
        Some(Value::Null) => Ok(0),
        other => Err(unexpected(i, other)),
    }
}

fn unexpected(i: usize, value: Option<&Value>) -> Error {
    Error::Internal(format!("sqlite: unexpected value in column {i}: {value:?}"))
}

/// A text parameter.
pub fn t(s: &str) -> Value {
    Value::Text(s.to_string())
}

/// An integer parameter.
pub fn i(n: u64) -> Value {
    Value::Integer(n as i64)
}
