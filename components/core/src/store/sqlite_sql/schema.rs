//! Marcus's tables in SQLite and the statements that keep the schema version, so every
//! SQLite database Marcus touches (a native host's file, Spin's `default`) has one layout.

use crate::store::audit_sql::{self, Dialect};
use crate::store::schema_version::{SCHEMA_VERSION, SCHEMA_VERSION_KEY, Scopes};
use crate::store::statement::{SqlValue, Statement};

/// The metadata table; it exists before the schema version can be read from it.
pub const META_TABLE: &str =
    "CREATE TABLE IF NOT EXISTS marcus_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)";

/// The statements that create the document store (each runs as its own statement). The
/// tenant leads the key and so every index, which keeps each tenant's documents together
/// and makes a statement without a tenant impossible to serve from an index.
pub const SCHEMA: [&str; 1] = ["CREATE TABLE IF NOT EXISTS documents (
        tenant TEXT NOT NULL,
        collection TEXT NOT NULL,
        id TEXT NOT NULL,
        data TEXT NOT NULL,
        version INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (tenant, collection, id)
    ) WITHOUT ROWID"];

/// The statements that bring a schema-1 store (documents without tenants) to this schema,
/// before [`SCHEMA`] runs: the table is rebuilt with the tenant leading its key, the
/// documents of `server_collections` (the installation's own records) go to
/// `server_scope`, every other document to `default_tenant`. Its field indexes go with the
/// old table; queries create them again, tenant first.
pub fn upgrade_from_v1(
    server_collections: &[&str],
    server_scope: &str,
    default_tenant: &str,
) -> Vec<Statement> {
    let (placement, params) =
        tenant_of_v1_document(server_collections, server_scope, default_tenant);
    vec![
        Statement::plain("DROP INDEX IF EXISTS documents_collection"),
        Statement::plain("ALTER TABLE documents RENAME TO documents_v1"),
        Statement::plain(SCHEMA[0]),
        Statement::new(
            format!(
                "INSERT INTO documents (tenant, collection, id, data, version, created_at, updated_at)
                 SELECT {placement}, collection, id, data, version, created_at, updated_at
                 FROM documents_v1"
            ),
            params,
        ),
        Statement::plain("DROP TABLE documents_v1"),
    ]
}

/// The SQL expression (with `?` placeholders) that gives a schema-1 document its tenant, and
/// its parameters: `server_scope` for the installation's own collections, `default_tenant`
/// for the rest.
pub fn tenant_of_v1_document(
    server_collections: &[&str],
    server_scope: &str,
    default_tenant: &str,
) -> (String, Vec<SqlValue>) {
    let mut params: Vec<SqlValue> = server_collections.iter().map(|c| (*c).into()).collect();
    if params.is_empty() {
        params.push("".into());
    }
    let placeholders = vec!["?"; params.len()].join(", ");
    params.push(server_scope.into());
    params.push(default_tenant.into());
    (
        format!("CASE WHEN collection IN ({placeholders}) THEN ? ELSE ? END"),
        params,
    )
}

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

/// Everything an upgrade from the `recorded` version runs, in one transaction after the
/// recorded version passed `schema_version::refuse_newer`: a schema-1 store's documents get
/// their tenants, then the schema, then this build's version recorded.
pub fn upgrade(recorded: Option<i64>, scopes: Scopes<'_>) -> Vec<Statement> {
    let mut steps = Vec::new();
    if recorded == Some(1) {
        steps.extend(upgrade_from_v1(
            scopes.server_collections,
            scopes.server_scope,
            scopes.default_tenant,
        ));
    }
    steps.extend(SCHEMA.iter().map(|s| Statement::plain(*s)));
    steps.extend(
        audit_sql::schema(Dialect::Sqlite)
            .into_iter()
            .map(Statement::plain),
    );
    steps.push(record_schema_version());
    steps
}

/// Records this build's schema version, after the schema statements ran.
pub fn record_schema_version() -> Statement {
    write_meta(SCHEMA_VERSION_KEY, &SCHEMA_VERSION.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upgrade_places_the_installation_records_apart_from_the_default_tenant() {
        let steps = upgrade_from_v1(&["auth_tokens", "auth_settings"], "_server", "default");
        let copy = &steps[3];
        assert!(
            copy.sql
                .contains("CASE WHEN collection IN (?, ?) THEN ? ELSE ? END"),
            "{}",
            copy.sql
        );
        assert_eq!(copy.sql.matches('?').count(), copy.params.len());
        assert_eq!(copy.params[2], SqlValue::Text("_server".into()));
        assert_eq!(copy.params[3], SqlValue::Text("default".into()));
        assert!(upgrade_from_v1(&[], "_server", "default")[3].params.len() == 3);
    }
}
