//! PostgreSQL storage: the team tier's shared backend, chosen by `DATABASE_URL`.
//!
//! Documents live in one `documents` table keyed by (collection, id), in byte-order
//! collation so ids sort exactly as in SQLite whatever the database's locale. That key is
//! the index every collection read walks; `data JSONB` has a GIN index (`jsonb_path_ops`) for
//! containment, and each combination of queried fields gets an expression index. Compare-and-swap is a single
//! conditional statement per write, so several hosts on one database never lose an update.
//! Every statement comes from the shared dialect module (`marcus_core::store::postgres_sql`),
//! the Spin adapter's as well, so hosts of both kinds can share one database.
//! Connections come from a pool; a connection the server dropped is replaced on next use,
//! so a database that went away answers `unavailable` and recovers by itself.

use super::{
    Document, DocumentKey, Expect, FieldFilter, ImportMode, ImportOutcome, Page, StorageBackend,
    StorageStats, Write, filter_pairs, now_ms, same_document,
};
use crate::backend_status::BackendStatus;
use crate::capability_error::{CapResult, CapabilityError};
use deadpool_postgres::GenericClient;
use deadpool_postgres::{Manager, ManagerConfig, Pool, PoolError, RecyclingMethod, Runtime};
use marcus_core::store::page::finish_page;
use marcus_core::store::postgres_sql::{documents, field_indexes, schema};
use marcus_core::store::statement::{self, SqlValue};
use marcus_core::store::{MAX_FIELD_INDEXES, get_many, rules, schema_version};
use std::time::Duration;
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row};

/// Connections kept per host process.
const POOL_SIZE: usize = 16;
/// How long a request waits for a connection (or for a new one to open).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// URL schemes this backend accepts.
pub const SCHEMES: [&str; 2] = ["postgresql://", "postgres://"];

/// The PostgreSQL backend.
pub struct PostgresStorage {
    pool: Pool,
    /// host:port/database, without credentials.
    location: String,
    /// Field combinations that have an expression index (see `ensure_field_index`).
    indexed_fields: std::sync::Mutex<std::collections::HashSet<String>>,
    /// Held while this host creates a field index: one creation at a time per host.
    index_creation: tokio::sync::Mutex<()>,
}

/// Classifies a driver error: connection trouble is `unavailable` (retry later), bad data is
/// `invalid`, the rest `internal`.
fn classify(e: tokio_postgres::Error) -> CapabilityError {
    if let Some(db) = e.as_db_error() {
        let code = db.code().code();
        let message = format!("postgres: {}", db.message());
        return match &code[..2] {
            // connection exception, insufficient resources, operator intervention
            "08" | "53" | "57" => CapabilityError::Unavailable(message),
            // data exception (e.g. a \u0000 in a string JSONB cannot hold)
            "22" => CapabilityError::Invalid(message),
            _ => CapabilityError::Internal(message),
        };
    }
    CapabilityError::Unavailable(format!("postgres: {e}"))
}

/// What the server said about a failed statement (its message and SQLSTATE), rather than
/// the driver's bare "db error".
fn server_message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}

/// Failing to get a connection is always `unavailable`, whatever the server said (a
/// database that refuses connections answers 55000, for one).
fn pool_error(e: PoolError) -> CapabilityError {
    match e {
        PoolError::Backend(e) => CapabilityError::Unavailable(format!(
            "postgres: {}",
            e.as_db_error()
                .map(|d| d.message().to_string())
                .unwrap_or_else(|| e.to_string())
        )),
        other => CapabilityError::Unavailable(format!("postgres: {other}")),
    }
}

/// `host:port/database` of a connection config, for reports and messages.
pub fn describe(config: &tokio_postgres::Config) -> String {
    use tokio_postgres::config::Host;
    let host = config
        .get_hosts()
        .first()
        .map(|h| match h {
            Host::Tcp(name) => name.clone(),
            Host::Unix(path) => path.display().to_string(),
        })
        .unwrap_or_else(|| "localhost".into());
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let db = config.get_dbname().unwrap_or("");
    format!("{host}:{port}/{db}")
}

impl PostgresStorage {
    /// Connects, checks the server answers and brings the schema up to date. An unreachable
    /// server or a database from a newer Marcus is an error naming the location.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let storage = Self::open_pool(url)?;
        let mut client = storage.first_client().await?;
        migrate_schema(&mut client)
            .await
            .map_err(|e| anyhow::anyhow!("PostgreSQL at {}: {e}", storage.location))?;
        drop(client);
        Ok(storage)
    }

    /// Connects to a database that must already hold Marcus's tables (a migration source);
    /// nothing is created.
    pub async fn connect_existing(url: &str) -> anyhow::Result<Self> {
        let storage = Self::open_pool(url)?;
        let client = storage.first_client().await?;
        let tables: i64 = client
            .query_one(
                "SELECT COUNT(*) FROM information_schema.tables
                 WHERE table_schema = current_schema() AND table_name IN ('documents', 'marcus_meta')",
                &[],
            )
            .await?
            .get(0);
        if tables < 2 {
            anyhow::bail!(
                "PostgreSQL at {} is not a Marcus database (no documents and marcus_meta tables)",
                storage.location
            );
        }
        refuse_newer_schema(&client)
            .await
            .map_err(|e| anyhow::anyhow!("PostgreSQL at {}: {e}", storage.location))?;
        drop(client);
        Ok(storage)
    }

    /// Connects and reads what the database holds: Marcus's tables, the schema version and
    /// the server's version. Nothing is created or changed.
    pub async fn inspect(url: &str) -> anyhow::Result<super::Inspection> {
        let storage = Self::open_pool(url)?;
        let client = storage.first_client().await?;
        let located =
            |e: &dyn std::fmt::Display| anyhow::anyhow!("PostgreSQL at {}: {e}", storage.location);
        let tables: i64 = client
            .query_one(
                "SELECT COUNT(*) FROM information_schema.tables
                 WHERE table_schema = current_schema() AND table_name IN ('documents', 'marcus_meta')",
                &[],
            )
            .await
            .map_err(|e| located(&server_message(&e)))?
            .get(0);
        let recorded: Option<String> = if tables == 2 {
            first(&client, &schema::read_schema_version())
                .await
                .map_err(|e| located(&e))?
                .map(|r| r.get(0))
        } else {
            None
        };
        let engine_version: String = client
            .query_one("SHOW server_version", &[])
            .await
            .map_err(|e| located(&server_message(&e)))?
            .get(0);
        Ok(super::Inspection {
            location: storage.location.clone(),
            has_tables: tables == 2,
            schema_version: schema_version::recorded(recorded.as_deref()),
            engine_version,
        })
    }

    /// The first connection, or an error naming where the server was expected.
    async fn first_client(&self) -> anyhow::Result<deadpool_postgres::Object> {
        self.pool
            .get()
            .await
            .map_err(|e| anyhow::anyhow!("cannot reach PostgreSQL at {}: {e}", self.location))
    }

    fn open_pool(url: &str) -> anyhow::Result<Self> {
        if !SCHEMES.iter().any(|s| url.starts_with(s)) {
            anyhow::bail!(
                "DATABASE_URL must start with postgresql:// or postgres://; got {:?}",
                url.split("://").next().unwrap_or(url)
            );
        }
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| anyhow::anyhow!("DATABASE_URL is not a valid PostgreSQL URL: {e}"))?;
        if config.get_ssl_mode() == tokio_postgres::config::SslMode::Require {
            anyhow::bail!(
                "DATABASE_URL asks for sslmode=require, but this marcus connects to PostgreSQL \
                 without TLS; use sslmode=disable (or prefer) on a private network"
            );
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("marcus");
        }
        let location = describe(&config);
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(CONNECT_TIMEOUT))
            .create_timeout(Some(CONNECT_TIMEOUT))
            .recycle_timeout(Some(CONNECT_TIMEOUT))
            .build()
            .map_err(|e| anyhow::anyhow!("creating the PostgreSQL pool: {e}"))?;
        Ok(Self {
            pool,
            location,
            indexed_fields: Default::default(),
            index_creation: Default::default(),
        })
    }

    async fn client(&self) -> CapResult<deadpool_postgres::Object> {
        self.pool.get().await.map_err(pool_error)
    }

    /// Creates a B-tree expression index on (collection, each filtered field, id) the first
    /// time a combination of fields is queried, like the SQLite backend does. The GIN index
    /// answers any containment, but the planner rates it poorly and walks the primary key
    /// instead; an index on exactly the expressions the query compares is a direct lookup,
    /// already in id order. Creation never races: within this host one creation runs at a
    /// time (a burst of first queries waits for it instead of holding a pooled connection
    /// each), and across hosts the transaction holds the shared field index lock.
    async fn ensure_field_index(&self, filters: &[FieldFilter]) {
        let fields: Vec<&str> = filters.iter().map(|f| f.field.as_str()).collect();
        let key = fields.join(",");
        // The usual case (index known) only looks; queries on indexed fields never wait.
        let known = || {
            self.indexed_fields
                .lock()
                .map(|set| set.contains(&key) || set.len() >= MAX_FIELD_INDEXES)
                .unwrap_or(true)
        };
        if known() {
            return;
        }
        let Some(steps) = field_indexes::create_field_index(&fields) else {
            return;
        };
        let _turn = self.index_creation.lock().await;
        // Another query may have created it while this one waited its turn.
        if known() {
            return;
        }
        match self.create_field_index(&steps).await {
            Ok(()) => {
                if let Ok(mut set) = self.indexed_fields.lock() {
                    set.insert(key);
                }
            }
            Err(message) => tracing::warn!("creating an index for {key}: {message}"),
        }
    }

    /// Runs an index creation's statements in one transaction; an index found to exist
    /// already (an older host creating it outside the lock) is success.
    async fn create_field_index(&self, steps: &[statement::Statement]) -> Result<(), String> {
        let mut client = self.client().await.map_err(|e| e.to_string())?;
        let created = async {
            let tx = client.transaction().await?;
            for step in steps {
                execute(&tx, step).await?;
            }
            tx.commit().await
        }
        .await;
        match created {
            Ok(()) => Ok(()),
            Err(e)
                if e.code()
                    .is_some_and(|c| field_indexes::index_exists_error(c.code())) =>
            {
                Ok(())
            }
            Err(e) => Err(server_message(&e)),
        }
    }
}

/// Creates the tables or upgrades them under the schema lock; refuses a database from a
/// newer Marcus.
async fn migrate_schema(client: &mut deadpool_postgres::Object) -> anyhow::Result<()> {
    let tx = client.transaction().await?;
    for step in schema::start_upgrade() {
        execute(&tx, &step).await?;
    }
    refuse_newer_schema(&tx).await?;
    for step in schema::finish_upgrade() {
        execute(&tx, &step).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Fails for a database written by a newer Marcus (a missing version is a new database).
async fn refuse_newer_schema(client: &impl GenericClient) -> anyhow::Result<()> {
    let recorded: Option<String> = first(client, &schema::read_schema_version())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .map(|r| r.get(0));
    schema_version::refuse_newer(schema_version::recorded(recorded.as_deref()))
        .map_err(anyhow::Error::msg)
}

/// A shared statement's parameters as tokio-postgres values.
fn bound(statement: &statement::Statement) -> Vec<Box<dyn ToSql + Sync + Send>> {
    statement
        .params
        .iter()
        .map(|p| -> Box<dyn ToSql + Sync + Send> {
            match p {
                SqlValue::Integer(i) => Box::new(*i),
                SqlValue::Real(r) => Box::new(*r),
                SqlValue::Text(t) => Box::new(t.clone()),
            }
        })
        .collect()
}

/// Runs a statement for its effect. One without parameters goes as a simple query, so DDL
/// and `SET` never need preparing.
async fn execute(
    client: &impl GenericClient,
    statement: &statement::Statement,
) -> Result<(), tokio_postgres::Error> {
    if statement.params.is_empty() {
        return client.batch_execute(&statement.sql).await;
    }
    let params = bound(statement);
    let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| &**p as _).collect();
    client
        .execute(statement.sql.as_str(), &refs)
        .await
        .map(|_| ())
}

/// Every row of a statement (a read, or a write's `RETURNING`), prepared once per
/// connection.
async fn rows(
    client: &impl GenericClient,
    statement: &statement::Statement,
) -> CapResult<Vec<Row>> {
    let prepared = client
        .prepare_cached(&statement.sql)
        .await
        .map_err(classify)?;
    let params = bound(statement);
    let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| &**p as _).collect();
    client.query(&prepared, &refs).await.map_err(classify)
}

/// The first row of a statement, if any.
async fn first(
    client: &impl GenericClient,
    statement: &statement::Statement,
) -> CapResult<Option<Row>> {
    Ok(rows(client, statement).await?.into_iter().next())
}

/// A row of [`documents::COLUMNS`].
fn row_to_document(row: &Row) -> Document {
    Document {
        collection: row.get(0),
        id: row.get(1),
        data: row.get(2),
        version: row.get::<_, i64>(3) as u64,
        created_at: row.get::<_, i64>(4) as u64,
        updated_at: row.get::<_, i64>(5) as u64,
    }
}

/// The current version of a document, for conflict messages.
async fn current_version(
    client: &impl GenericClient,
    collection: &str,
    id: &str,
) -> CapResult<Option<u64>> {
    Ok(first(client, &documents::version_of(collection, id))
        .await?
        .map(|r| r.get::<_, i64>(0) as u64))
}

/// One write as one conditional statement: the precondition and the write are a single
/// atomic step, whatever other hosts do at the same time. A write that changed nothing is
/// the conflict the version read next explains.
async fn put_in(client: &impl GenericClient, w: &Write, now: u64) -> CapResult<Document> {
    rules::check_write(&w.collection, &w.id, &w.data)?;
    match first(client, &documents::put(w.borrowed(), now)).await? {
        Some(row) => Ok(row_to_document(&row)),
        None => {
            let current = current_version(client, &w.collection, &w.id).await?;
            Err(rules::unmet_precondition(&w.collection, &w.id, w.expect, current).into())
        }
    }
}

#[async_trait::async_trait]
impl StorageBackend for PostgresStorage {
    async fn status(&self) -> BackendStatus {
        let probe = async {
            let client = self.client().await?;
            client
                .query_one("SELECT 1", &[])
                .await
                .map_err(classify)
                .map(|_| ())
        };
        match tokio::time::timeout(CONNECT_TIMEOUT, probe).await {
            Ok(Ok(())) => BackendStatus::healthy("postgres", self.location.clone()),
            Ok(Err(e)) => BackendStatus {
                name: "postgres".into(),
                healthy: false,
                detail: format!("{}: {e}", self.location),
            },
            Err(_) => BackendStatus {
                name: "postgres".into(),
                healthy: false,
                detail: format!("{}: no answer within {CONNECT_TIMEOUT:?}", self.location),
            },
        }
    }

    async fn get(&self, collection: &str, id: &str) -> CapResult<Option<Document>> {
        let client = self.client().await?;
        Ok(first(&client, &documents::get(collection, id))
            .await?
            .as_ref()
            .map(row_to_document))
    }

    async fn get_many(&self, keys: &[DocumentKey]) -> CapResult<Vec<Option<Document>>> {
        get_many::check_count(keys.len())?;
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let client = self.client().await?;
        let found = rows(&client, &documents::get_many(&super::keys_json(keys)))
            .await?
            .iter()
            .map(|r| (r.get::<_, i64>(6) as usize, row_to_document(r)))
            .collect::<Vec<_>>();
        Ok(get_many::in_request_order(keys.len(), found))
    }

    async fn put(
        &self,
        collection: &str,
        id: &str,
        data: &str,
        expect: Expect,
    ) -> CapResult<Document> {
        let client = self.client().await?;
        let w = Write {
            collection: collection.into(),
            id: id.into(),
            data: data.into(),
            expect,
        };
        put_in(&client, &w, now_ms()).await
    }

    async fn put_many(&self, writes: &[Write]) -> CapResult<Vec<Document>> {
        // The writes up to the first malformed one are sent; that one fails the batch only
        // if every write before it held, as when they ran one after the other.
        let valid = writes
            .iter()
            .position(|w| rules::check_write(&w.collection, &w.id, &w.data).is_err())
            .unwrap_or(writes.len());
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(classify)?;
        let now = now_ms();
        // Sent together on the transaction's connection (pipelined: one round trip for the
        // batch, not one per write), executed by the server in order; the answers are then
        // checked in order, so the first write whose precondition failed is the one named.
        let statements: Vec<_> = writes[..valid]
            .iter()
            .map(|w| documents::put(w.borrowed(), now))
            .collect();
        let answers = futures::future::join_all(statements.iter().map(|st| first(&tx, st))).await;
        let mut out = Vec::with_capacity(writes.len());
        for (w, answer) in writes.iter().zip(answers) {
            // An error returns early; dropping `tx` rolls everything back.
            match answer? {
                Some(row) => out.push(row_to_document(&row)),
                None => {
                    let current = current_version(&tx, &w.collection, &w.id).await?;
                    return Err(
                        rules::unmet_precondition(&w.collection, &w.id, w.expect, current).into(),
                    );
                }
            }
        }
        if let Some(w) = writes.get(valid) {
            rules::check_write(&w.collection, &w.id, &w.data)?;
        }
        tx.commit().await.map_err(classify)?;
        Ok(out)
    }

    async fn delete(&self, collection: &str, id: &str, expected: Option<u64>) -> CapResult<bool> {
        let client = self.client().await?;
        if first(&client, &documents::delete(collection, id, expected))
            .await?
            .is_some()
        {
            return Ok(true);
        }
        let current = match expected {
            Some(_) => current_version(&client, collection, id).await?,
            None => None,
        };
        Ok(rules::missed_delete(collection, id, expected, current)?)
    }

    async fn query(
        &self,
        collection: &str,
        filters: &[FieldFilter],
        limit: u32,
        cursor: Option<&str>,
    ) -> CapResult<Page> {
        rules::check_limit(limit)?;
        // Built first: a malformed filter is refused before any index is made for it.
        let statement = documents::query(collection, &filter_pairs(filters), limit, cursor)?;
        self.ensure_field_index(filters).await;
        let client = self.client().await?;
        let mut docs: Vec<Document> = rows(&client, &statement)
            .await?
            .iter()
            .map(row_to_document)
            .collect();
        let next_cursor = finish_page(&mut docs, limit, |d| &d.id);
        Ok(Page {
            documents: docs,
            next_cursor,
        })
    }

    async fn count(&self, collection: &str, filters: &[FieldFilter]) -> CapResult<u64> {
        let statement = documents::count(collection, &filter_pairs(filters))?;
        self.ensure_field_index(filters).await;
        let client = self.client().await?;
        Ok(first(&client, &statement)
            .await?
            .map(|r| r.get::<_, i64>(0) as u64)
            .unwrap_or(0))
    }

    async fn list_collections(&self) -> CapResult<Vec<String>> {
        let client = self.client().await?;
        let statement = statement::Statement::plain(documents::LIST_COLLECTIONS);
        Ok(rows(&client, &statement)
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    async fn scan(
        &self,
        collection: &str,
        after: Option<&str>,
        limit: u32,
    ) -> CapResult<Vec<Document>> {
        rules::check_limit(limit)?;
        let client = self.client().await?;
        Ok(rows(&client, &documents::scan(collection, after, limit))
            .await?
            .iter()
            .map(row_to_document)
            .collect())
    }

    async fn stats(&self) -> CapResult<StorageStats> {
        let client = self.client().await?;
        let row = first(&client, &statement::Statement::plain(documents::STATS))
            .await?
            .ok_or_else(|| CapabilityError::Internal("postgres: no totals row".into()))?;
        Ok(StorageStats {
            documents: row.get::<_, i64>(0) as u64,
            size_bytes: row.get::<_, i64>(1) as u64,
        })
    }

    async fn import(&self, docs: &[Document], mode: ImportMode) -> CapResult<ImportOutcome> {
        if docs.is_empty() {
            return Ok(ImportOutcome::default());
        }
        let collections: Vec<&str> = docs.iter().map(|d| d.collection.as_str()).collect();
        let ids: Vec<&str> = docs.iter().map(|d| d.id.as_str()).collect();
        let data: Vec<&str> = docs.iter().map(|d| d.data.as_str()).collect();
        let versions: Vec<i64> = docs.iter().map(|d| d.version as i64).collect();
        let created: Vec<i64> = docs.iter().map(|d| d.created_at as i64).collect();
        let updated: Vec<i64> = docs.iter().map(|d| d.updated_at as i64).collect();
        // One statement per batch: the arrays travel as six parameters.
        let client = self.client().await?;
        let rows = client
            .query(
                documents::import(mode).as_str(),
                &[&collections, &ids, &data, &versions, &created, &updated],
            )
            .await
            .map_err(classify)?;
        let mut outcome = ImportOutcome {
            written: rows.len() as u64,
            ..Default::default()
        };
        if rows.len() == docs.len() {
            return Ok(outcome);
        }
        let written: std::collections::HashSet<(String, String)> = rows
            .iter()
            .map(|r| (r.get::<_, String>(0), r.get::<_, String>(1)))
            .collect();
        let rest: Vec<&Document> = docs
            .iter()
            .filter(|d| !written.contains(&(d.collection.clone(), d.id.clone())))
            .collect();
        let rest_collections: Vec<&str> = rest.iter().map(|d| d.collection.as_str()).collect();
        let rest_ids: Vec<&str> = rest.iter().map(|d| d.id.as_str()).collect();
        let existing = client
            .query(
                documents::existing_for_import().as_str(),
                &[&rest_collections, &rest_ids],
            )
            .await
            .map_err(classify)?;
        let current: std::collections::HashMap<(String, String), Document> = existing
            .iter()
            .map(row_to_document)
            .map(|d| ((d.collection.clone(), d.id.clone()), d))
            .collect();
        for d in rest {
            match current.get(&(d.collection.clone(), d.id.clone())) {
                Some(c) if same_document(c, d) => outcome.skipped += 1,
                _ => outcome.conflicts.push(d.id.clone()),
            }
        }
        Ok(outcome)
    }

    async fn meta(&self, key: &str) -> CapResult<Option<String>> {
        let client = self.client().await?;
        Ok(first(&client, &schema::read_meta(key))
            .await?
            .map(|r| r.get(0)))
    }

    async fn set_meta(&self, key: &str, value: Option<&str>) -> CapResult<()> {
        let client = self.client().await?;
        let statement = match value {
            Some(v) => schema::write_meta(key, v),
            None => schema::remove_meta(key),
        };
        execute(&client, &statement).await.map_err(classify)
    }

    async fn close(&self) {
        self.pool.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_field_names_are_refused() {
        let bad = vec![FieldFilter {
            field: "a' OR '1".into(),
            value: "1".into(),
        }];
        let refused = documents::count("c", &filter_pairs(&bad)).map_err(CapabilityError::from);
        assert!(matches!(refused, Err(CapabilityError::Invalid(_))));
    }
}
