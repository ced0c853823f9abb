//! Marcus's tables in PostgreSQL and the statements that upgrade a database to them, under
//! an advisory lock so hosts starting at the same moment never race the upgrade.

use crate::store::audit_sql::{self, Dialect};
use crate::store::schema_version::{SCHEMA_VERSION, SCHEMA_VERSION_KEY, Scopes};
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
/// collate as bytes, so they sort exactly as in SQLite whatever the database's locale; the
/// tenant leads the key and so every index.
pub const SCHEMA: [&str; 2] = [
    "CREATE TABLE IF NOT EXISTS documents (
        tenant TEXT COLLATE \"C\" NOT NULL,
        collection TEXT COLLATE \"C\" NOT NULL,
        id TEXT COLLATE \"C\" NOT NULL,
        data JSONB NOT NULL,
        version BIGINT NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (tenant, collection, id)
    )",
    "CREATE INDEX IF NOT EXISTS documents_data ON documents USING GIN (data jsonb_path_ops)",
];

/// The role the app's statements run as: it owns no table and cannot bypass row-level
/// security, so every row it reads or writes must pass the tenant policy.
pub const APP_ROLE: &str = "marcus_app";

/// The transaction-local setting that names the tenant of a transaction's statements; the
/// policies compare each row's tenant with it, and an unset one matches no row.
pub const TENANT_SETTING: &str = "marcus.tenant";

/// Row-level security on every table, forced so the owner is held to it too, with one
/// policy each: a document is visible and writable only in a transaction whose
/// [`TENANT_SETTING`] names its tenant; the metadata table only in the server scope
/// (`server_scope`). Then [`APP_ROLE`], made when missing, gets exactly the statements it
/// needs, and the connecting role may take it on.
pub fn row_security(server_scope: &str) -> Vec<Statement> {
    let scope = quote_literal(server_scope);
    vec![
        Statement::plain("ALTER TABLE documents ENABLE ROW LEVEL SECURITY"),
        Statement::plain("ALTER TABLE documents FORCE ROW LEVEL SECURITY"),
        Statement::plain("DROP POLICY IF EXISTS documents_tenant ON documents"),
        Statement::plain(format!(
            "CREATE POLICY documents_tenant ON documents
             USING (tenant = current_setting('{TENANT_SETTING}', true))
             WITH CHECK (tenant = current_setting('{TENANT_SETTING}', true))"
        )),
        Statement::plain("ALTER TABLE marcus_meta ENABLE ROW LEVEL SECURITY"),
        Statement::plain("ALTER TABLE marcus_meta FORCE ROW LEVEL SECURITY"),
        Statement::plain("DROP POLICY IF EXISTS marcus_meta_server ON marcus_meta"),
        Statement::plain(format!(
            "CREATE POLICY marcus_meta_server ON marcus_meta
             USING (current_setting('{TENANT_SETTING}', true) = {scope})
             WITH CHECK (current_setting('{TENANT_SETTING}', true) = {scope})"
        )),
        // Roles belong to the cluster, not the database: hosts of two databases may make
        // it at the same moment, and the loser's duplicate is no error.
        Statement::plain(format!(
            "DO $$ BEGIN
               IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                 CREATE ROLE {APP_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS;
               END IF;
             EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
             END $$"
        )),
        Statement::plain(format!(
            "DO $$ BEGIN
               EXECUTE format('GRANT USAGE ON SCHEMA %I TO {APP_ROLE}', current_schema());
             END $$"
        )),
        Statement::plain(format!(
            "GRANT SELECT, INSERT, UPDATE, DELETE ON documents, marcus_meta TO {APP_ROLE}"
        )),
        Statement::plain(format!(
            "DO $$ BEGIN
               IF NOT pg_has_role(current_user, '{APP_ROLE}', 'MEMBER') THEN
                 EXECUTE format('GRANT {APP_ROLE} TO %I', current_user);
               END IF;
             END $$"
        )),
    ]
}

/// The statement that opens a tenant's transaction (run right after `BEGIN`, with no
/// parameters, so it may travel with it): the app role for the rest of the transaction and
/// the tenant as a transaction-local setting. `tenant` must be a checked tenant or scope
/// name; it is quoted all the same.
pub fn enter_scope(tenant: &str) -> String {
    format!(
        "SET LOCAL ROLE {APP_ROLE}; SELECT set_config('{TENANT_SETTING}', {}, true)",
        quote_literal(tenant)
    )
}

/// `text` as a PostgreSQL string literal.
pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The statements that bring a schema-1 database (documents without tenants) to this
/// schema, before [`SCHEMA`] runs: every document gets its tenant (`server_scope` for the
/// installation's own `server_collections`, `default_tenant` for the rest), the key becomes
/// (tenant, collection, id), and the field indexes go (queries make them again, tenant
/// first).
pub fn upgrade_from_v1(
    server_collections: &[&str],
    server_scope: &str,
    default_tenant: &str,
) -> Vec<Statement> {
    let listed: Vec<String> = server_collections
        .iter()
        .map(|c| quote_literal(c))
        .collect();
    let listed = if listed.is_empty() {
        "''".to_string()
    } else {
        listed.join(", ")
    };
    vec![
        Statement::plain(
            "ALTER TABLE documents ADD COLUMN IF NOT EXISTS tenant TEXT COLLATE \"C\"",
        ),
        Statement::plain(format!(
            "UPDATE documents SET tenant = CASE WHEN collection IN ({listed}) THEN {} ELSE {} END
             WHERE tenant IS NULL",
            quote_literal(server_scope),
            quote_literal(default_tenant)
        )),
        Statement::plain("ALTER TABLE documents ALTER COLUMN tenant SET NOT NULL"),
        Statement::plain("ALTER TABLE documents DROP CONSTRAINT IF EXISTS documents_pkey"),
        Statement::plain("ALTER TABLE documents ADD PRIMARY KEY (tenant, collection, id)"),
        Statement::plain(
            "DO $$ DECLARE r record; BEGIN
               FOR r IN SELECT indexname FROM pg_indexes
                 WHERE schemaname = current_schema() AND tablename = 'documents'
                   AND indexname LIKE 'documents\\_by\\_%'
               LOOP EXECUTE format('DROP INDEX %I', r.indexname); END LOOP;
             END $$",
        ),
    ]
}

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

/// Makes the server scope the transaction's tenant, for statements on the metadata table
/// (whose policy admits only that scope, the owner included).
pub fn server_scope_setting(server_scope: &str) -> Statement {
    Statement::plain(format!(
        "SELECT set_config('{TENANT_SETTING}', {}, true)",
        quote_literal(server_scope)
    ))
}

/// The first statements of an upgrade, inside its transaction and as the owner: quiet
/// notices, take [`SCHEMA_LOCK`], enter the server scope, make sure the metadata table
/// exists. The recorded version is read next and checked with
/// `schema_version::refuse_newer`, then [`finish_upgrade`] runs.
pub fn start_upgrade(server_scope: &str) -> Vec<Statement> {
    vec![
        Statement::plain(QUIET_NOTICES),
        advisory_lock(SCHEMA_LOCK),
        server_scope_setting(server_scope),
        Statement::plain(META_TABLE),
    ]
}

/// The rest of an upgrade from the `recorded` version: a schema-1 database's documents get
/// their tenants, then the schema, row-level security and the app role (for a new or older
/// database), then this build's version recorded.
pub fn finish_upgrade(recorded: Option<i64>, scopes: Scopes<'_>) -> Vec<Statement> {
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
        audit_sql::schema(Dialect::Postgres)
            .into_iter()
            .map(Statement::plain),
    );
    // Policies are replaced under an exclusive lock on the table: only when the schema
    // changes, never at every start of a host beside serving ones.
    if recorded != Some(SCHEMA_VERSION) {
        steps.extend(row_security(scopes.server_scope));
        steps.extend(
            audit_sql::postgres_security(APP_ROLE, TENANT_SETTING, scopes.server_scope)
                .into_iter()
                .map(Statement::plain),
        );
    }
    steps.push(write_meta(SCHEMA_VERSION_KEY, &SCHEMA_VERSION.to_string()));
    steps
}
