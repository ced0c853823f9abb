//! Marcus's tables in SQLite and the statements that keep the schema version, so every
//! SQLite database Marcus touches (a native host's file, Spin's `default`) has one layout.

use crate::store::schema_version::{SCHEMA_VERSION, SCHEMA_VERSION_KEY};
use crate::store::statement::Statement;

/// The metadata table; it exists before the schema version can be read from it.
pub const META_TABLE: &str =
    "CREATE TABLE IF NOT EXISTS marcus_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)";

/// The statements that create the document store (each runs as its own statement).
pub const SCHEMA: [&str; 2] = [
    "CREATE TABLE IF NOT EXISTS documents (
        collection TEXT NOT NULL,
        id TEXT NOT NULL,
        data TEXT NOT NULL,
        version INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (collection, id)
    ) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS documents_collection ON documents (collection)",
];

/// The realtime event log of a host that keeps it in SQLite (the Spin adapter): one row per
/// event, numbered per channel by the primary key.
pub const REALTIME_EVENTS: &str = "CREATE TABLE IF NOT EXISTS realtime_events (
        channel TEXT NOT NULL,
        seq INTEGER NOT NULL,
        payload TEXT NOT NULL,
        published_at INTEGER NOT NULL,
        PRIMARY KEY (channel, seq)
    ) WITHOUT ROWID";

/// Reads one metadata entry (its value, one column).
pub fn read_meta(key: &str) -> Statement {
    Statement::new(
        "SELECT value FROM marcus_meta WHERE key = ?",
        vec![key.into()],
    )
}

/// Sets one metadata entry.
pub fn write_meta(key: &str, value: &str) -> Statement {
    Statement::new(
        "INSERT INTO marcus_meta (key, value) VALUES (?, ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        vec![key.into(), value.into()],
    )
}

/// Removes one metadata entry.
pub fn remove_meta(key: &str) -> Statement {
    Statement::new("DELETE FROM marcus_meta WHERE key = ?", vec![key.into()])
}

/// Reads the recorded schema version (see `schema_version::recorded`).
pub fn read_schema_version() -> Statement {
    read_meta(SCHEMA_VERSION_KEY)
}

/// Records this build's schema version, after the schema statements ran.
pub fn record_schema_version() -> Statement {
    write_meta(SCHEMA_VERSION_KEY, &SCHEMA_VERSION.to_string())
}
