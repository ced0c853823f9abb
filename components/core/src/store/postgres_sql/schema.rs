//! Marcus's tables in PostgreSQL and the statements that upgrade a database to them, under
//! an advisory lock so hosts starting at the same moment never race the upgrade.

use crate::store::schema_version::{SCHEMA_VERSION, SCHEMA_VERSION_KEY};
use crate::store::statement::Statement;

/// Advisory lock id that serialises schema upgrades of every host on a database (`marcus`).
pub const SCHEMA_LOCK: i64 = 0x6d61_7263_7573;

/// Keeps the "already exists, skipping" notices of idempotent DDL out of the logs for the
/// rest of the transaction.
pub const QUIET_NOTICES: &str = "SET LOCAL client_min_messages = warning";

/// The metadata table; it exists before the schema version can be read from it.
pub const META_TABLE: &str =
    "CREATE TABLE IF NOT EXISTS marcus_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)";

/// The statements that create the document store (each runs as its own statement). Ids
/// collate as bytes, so they sort exactly as in SQLite whatever the database's locale.
pub const SCHEMA: [&str; 2] = [
    "CREATE TABLE IF NOT EXISTS documents (
        collection TEXT COLLATE \"C\" NOT NULL,
        id TEXT COLLATE \"C\" NOT NULL,
        data JSONB NOT NULL,
        version BIGINT NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (collection, id)
    )",
    "CREATE INDEX IF NOT EXISTS documents_data ON documents USING GIN (data jsonb_path_ops)",
];

/// Takes a transaction-level advisory lock (released at commit or rollback).
pub fn advisory_lock(key: i64) -> Statement {
    Statement::new("SELECT pg_advisory_xact_lock($1)", vec![key.into()])
}

/// Reads one metadata entry (column `value`).
pub fn read_meta(key: &str) -> Statement {
    Statement::new(
        "SELECT value FROM marcus_meta WHERE key = $1",
        vec![key.into()],
    )
}

/// Sets one metadata entry.
pub fn write_meta(key: &str, value: &str) -> Statement {
    Statement::new(
        "INSERT INTO marcus_meta (key, value) VALUES ($1, $2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        vec![key.into(), value.into()],
    )
}

/// Removes one metadata entry.
pub fn remove_meta(key: &str) -> Statement {
    Statement::new("DELETE FROM marcus_meta WHERE key = $1", vec![key.into()])
}

/// Reads the recorded schema version (see `schema_version::recorded`).
pub fn read_schema_version() -> Statement {
    read_meta(SCHEMA_VERSION_KEY)
}

/// The first statements of an upgrade, inside its transaction: quiet notices, take
/// [`SCHEMA_LOCK`], make sure the metadata table exists. The recorded version is read next
/// and checked with `schema_version::refuse_newer`, then [`finish_upgrade`] runs.
pub fn start_upgrade() -> Vec<Statement> {
    vec![
        Statement::plain(QUIET_NOTICES),
        advisory_lock(SCHEMA_LOCK),
        Statement::plain(META_TABLE),
    ]
}

/// The rest of an upgrade: the schema, then this build's version recorded.
pub fn finish_upgrade() -> Vec<Statement> {
    let mut steps: Vec<Statement> = SCHEMA.iter().map(|s| Statement::plain(*s)).collect();
    steps.push(write_meta(SCHEMA_VERSION_KEY, &SCHEMA_VERSION.to_string()));
    steps
}
