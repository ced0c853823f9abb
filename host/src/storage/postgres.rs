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

mod scope;

use super::{
    AuditEntry, AuditFilter, ChainHead, Changed, Document, DocumentKey, Expect, FieldFilter,
    ImportMode, ImportOutcome, Page, Removal, SignedCheckpoint, StorageBackend, StorageStats,
    StoredRecord, Write, check_audit_scope, filter_pairs, now_ms, same_document,
};
use crate::backend_status::BackendStatus;
use crate::capability_error::{CapResult, CapabilityError};
use deadpool_postgres::GenericClient;
use deadpool_postgres::{Manager, ManagerConfig, Pool, PoolError, RecyclingMethod, Runtime};
use marcus_core::audit::Checkpoint;
use marcus_core::store::audit_sql::{self, Dialect::Postgres};
use marcus_core::store::page::finish_page;
use marcus_core::store::postgres_sql::{documents, field_indexes, schema};
use marcus_core::store::statement::{self, SqlValue};
use marcus_core::store::{MAX_FIELD_INDEXES, get_many, rules, schema_version};
use marcus_identity::tenant::SERVER_SCOPE;
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
        let mut client = storage.first_client().await?;
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
        // An older Marcus's database is brought up to date first, as on SQLite.
        migrate_schema(&mut client)
            .await
            .map_err(|e| anyhow::anyhow!("PostgreSQL at {}: {e}", storage.location))?;
        drop(client);
        Ok(storage)
    }

    /// Connects and reads what the database holds: Marcus's tables, the schema version and
    /// the server's version. Nothing is created or changed.
    pub async fn inspect(url: &str) -> anyhow::Result<super::Inspection> {
        let storage = Self::open_pool(url)?;
        let mut client = storage.first_client().await?;
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
            recorded_version(&mut client)
                .await
                .map_err(|e| located(&e))?
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

    /// One statement's rows, in a transaction of `tenant` (see [`scope`]).
    async fn one(&self, tenant: &str, statement: statement::Statement) -> CapResult<Vec<Row>> {
        let client = self.client().await?;
        let mut answers = scope::run(&client, tenant, std::slice::from_ref(&statement)).await?;
        Ok(answers.pop().unwrap_or_default())
    }

    /// One attempt of [`StorageBackend::change`]: the writes, the removals, the chain's
    /// lock and the append travel in one round trip; the answers decide commit or rollback.
    async fn change_once(
        &self,
        tenant: &str,
        writes: &[Write],
        removals: &[Removal],
        record: &AuditEntry,
    ) -> CapResult<Changed> {
        let now = now_ms();
        let mut statements: Vec<_> = writes
            .iter()
            .map(|w| documents::put(tenant, w.borrowed(), now))
            .collect();
        statements.extend(
            removals
                .iter()
                .map(|r| documents::delete(tenant, &r.collection, &r.id, r.expected)),
        );
        let placed = StoredRecord::place(record, 0, "");
        statements.push(audit_sql::postgres_chain_lock(&record.tenant));
        statements.push(audit_sql::postgres_append(&placed));
        let client = self.client().await?;
        let (tx, answers) = scope::Open::run(client, tenant, &statements).await?;
        let mut answers = answers.into_iter();
        let mut documents = Vec::with_capacity(writes.len());
        for w in writes {
            match answers.next().unwrap_or_default().first() {
                Some(row) => documents.push(row_to_document(row)),
                None => {
                    tx.rollback().await?;
                    return Err(self.unmet(tenant, w).await);
                }
            }
        }
        let mut removed = Vec::with_capacity(removals.len());
        for r in removals {
            let found = !answers.next().unwrap_or_default().is_empty();
            if !found && r.expected.is_some() {
                tx.rollback().await?;
                let current = self.version(tenant, &r.collection, &r.id).await?;
                rules::missed_delete(&r.collection, &r.id, r.expected, current)?;
                return Err(CapabilityError::Conflict(format!(
                    "{}/{} changed while it was being removed",
                    r.collection, r.id
                )));
            }
            removed.push(found);
        }
        let _lock = answers.next();
        let seq = answers
            .next()
            .and_then(|rows| rows.first().map(|r| r.get::<_, i64>(0) as u64))
            .ok_or_else(|| CapabilityError::Internal("the audit record was not placed".into()))?;
        tx.commit().await?;
        Ok(Changed {
            documents,
            removed,
            seq,
        })
    }

    /// A document's current version, for the conflict message of a write that changed
    /// nothing.
    async fn version(&self, tenant: &str, collection: &str, id: &str) -> CapResult<Option<u64>> {
        Ok(self
            .one(tenant, documents::version_of(tenant, collection, id))
            .await?
            .first()
            .map(|r| r.get::<_, i64>(0) as u64))
    }

    /// The conflict a write whose precondition failed is refused with.
    async fn unmet(&self, tenant: &str, w: &Write) -> CapabilityError {
        match self.version(tenant, &w.collection, &w.id).await {
            Ok(current) => {
                rules::unmet_precondition(&w.collection, &w.id, w.expect, current).into()
            }
            Err(e) => e,
        }
    }

    /// Creates a B-tree expression index on (collection, each filtered field, id) the first
    /// time a combination of fields is queried, like the SQLite backend does. The GIN index
    /// answers any containment, but the planner rates it poorly and walks the primary key
    /// instead; an index on exactly the expressions the query compares is a direct lookup,
    /// already in id order. Creation never races: within this host one creation runs at a
    /// time (a burst of first queries waits for it instead of holding a pooled connection
    /// each), and across hosts the transaction holds the shared field index lock.
    /// Whether the filters' generated columns (and their index) exist, so a query may
    /// compare them.
    async fn ensure_field_index(&self, filters: &[FieldFilter]) -> bool {
        let fields: Vec<&str> = filters.iter().map(|f| f.field.as_str()).collect();
        if fields.is_empty() {
            return false;
        }
        let key = fields.join(",");
        // The usual case (index known) only looks; queries on indexed fields never wait.
        let known = || -> Option<bool> {
            let set = self.indexed_fields.lock().ok()?;
            if set.contains(&key) {
                Some(true)
            } else if set.len() >= MAX_FIELD_INDEXES {
                Some(false)
            } else {
                None
            }
        };
        if let Some(indexed) = known() {
            return indexed;
        }
        let Some(steps) = field_indexes::create_field_index(&fields) else {
            return false;
        };
        let _turn = self.index_creation.lock().await;
        // Another query may have created it while this one waited its turn.
        if let Some(indexed) = known() {
            return indexed;
        }
        match self.create_field_index(&steps).await {
            Ok(()) => {
                if let Ok(mut set) = self.indexed_fields.lock() {
                    set.insert(key);
                }
                true
            }
            Err(message) => {
                tracing::warn!("creating an index for {key}: {message}");
                false
            }
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
/// Runs as the connecting role, which owns the tables: schema changes are the owner's. A
/// schema-1 database's board becomes the default tenant's.
async fn migrate_schema(client: &mut deadpool_postgres::Object) -> anyhow::Result<()> {
    let tx = client.transaction().await?;
    for step in schema::start_upgrade(SERVER_SCOPE) {
        execute(&tx, &step)
            .await
            .map_err(|e| anyhow::anyhow!(server_message(&e)))?;
    }
    let recorded: Option<String> = first(&tx, &schema::read_schema_version())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .map(|r| r.get(0));
    let recorded = schema_version::recorded(recorded.as_deref());
    schema_version::refuse_newer(recorded).map_err(anyhow::Error::msg)?;
    for step in schema::finish_upgrade(recorded, super::scopes()) {
        execute(&tx, &step)
            .await
            .map_err(|e| anyhow::anyhow!("upgrading the schema: {}", server_message(&e)))?;
    }
    tx.commit().await?;
    Ok(())
}

/// The recorded schema version, read in the server scope (the metadata table's policy
/// holds its owner to that scope too).
async fn recorded_version(client: &mut deadpool_postgres::Object) -> CapResult<Option<String>> {
    let tx = client.transaction().await.map_err(classify)?;
    execute(&tx, &schema::server_scope_setting(SERVER_SCOPE))
        .await
        .map_err(classify)?;
    let found = first(&tx, &schema::read_schema_version())
        .await?
        .map(|r| r.get(0));
    tx.commit().await.map_err(classify)?;
    Ok(found)
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

/// A row of `audit_sql::RECORD_COLUMNS`.
fn row_to_record(r: &Row) -> StoredRecord {
    StoredRecord {
        tenant: r.get(0),
        seq: r.get::<_, i64>(1) as u64,
        id: r.get(2),
        at: r.get::<_, i64>(3) as u64,
        actor: r.get(4),
        action: r.get(5),
        outcome: r.get(6),
        target: r.get(7),
        body: r.get(8),
        prev_hash: r.get(9),
        hash: r.get(10),
    }
}

/// A row of `audit_sql::CHECKPOINT_COLUMNS`.
fn row_to_checkpoint(r: &Row) -> SignedCheckpoint {
    SignedCheckpoint {
        checkpoint: Checkpoint {
            tenant: r.get(0),
            seq: r.get::<_, i64>(1) as u64,
            hash: r.get(2),
            at: r.get::<_, i64>(3) as u64,
            prev_signature: r.get(4),
        },
        public_key: r.get(5),
        signature: r.get(6),
    }
}

/// Whether `e` is another host's append taking the same place in a chain first.
fn lost_chain_race(e: &CapabilityError) -> bool {
    matches!(e, CapabilityError::Conflict(m) | CapabilityError::Internal(m) if m.contains("audit_log"))
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

    async fn get(&self, tenant: &str, collection: &str, id: &str) -> CapResult<Option<Document>> {
        let found = self
            .one(tenant, documents::get(tenant, collection, id))
            .await?;
        Ok(found.first().map(row_to_document))
    }

    async fn get_many(
        &self,
        tenant: &str,
        keys: &[DocumentKey],
    ) -> CapResult<Vec<Option<Document>>> {
        get_many::check_count(keys.len())?;
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let found = self
            .one(tenant, documents::get_many(tenant, &super::keys_json(keys)))
            .await?
            .iter()
            .map(|r| (r.get::<_, i64>(6) as usize, row_to_document(r)))
            .collect::<Vec<_>>();
        Ok(get_many::in_request_order(keys.len(), found))
    }

    async fn put(
        &self,
        tenant: &str,
        collection: &str,
        id: &str,
        data: &str,
        expect: Expect,
    ) -> CapResult<Document> {
        rules::check_write(collection, id, data)?;
        let w = Write {
            collection: collection.into(),
            id: id.into(),
            data: data.into(),
            expect,
        };
        // One conditional statement: the precondition and the write are one atomic step,
        // whatever other hosts do at the same time.
        let written = self
            .one(tenant, documents::put(tenant, w.borrowed(), now_ms()))
            .await?;
        match written.first() {
            Some(row) => Ok(row_to_document(row)),
            None => Err(self.unmet(tenant, &w).await),
        }
    }

    async fn put_many(&self, tenant: &str, writes: &[Write]) -> CapResult<Vec<Document>> {
        // The writes up to the first malformed one are sent; that one fails the batch only
        // if every write before it held, as when they ran one after the other.
        let valid = writes
            .iter()
            .position(|w| rules::check_write(&w.collection, &w.id, &w.data).is_err())
            .unwrap_or(writes.len());
        let now = now_ms();
        let statements: Vec<_> = writes[..valid]
            .iter()
            .map(|w| documents::put(tenant, w.borrowed(), now))
            .collect();
        let client = self.client().await?;
        // Sent together with the opening (one round trip for the batch), executed in order;
        // the answers are then checked in order, so the first write whose precondition
        // failed is the one named.
        let (tx, answers) = scope::Open::run(client, tenant, &statements).await?;
        let mut out = Vec::with_capacity(writes.len());
        for (w, rows) in writes.iter().zip(answers) {
            match rows.first() {
                Some(row) => out.push(row_to_document(row)),
                None => {
                    tx.rollback().await?;
                    return Err(self.unmet(tenant, w).await);
                }
            }
        }
        if let Some(w) = writes.get(valid)
            && let Err(e) = rules::check_write(&w.collection, &w.id, &w.data)
        {
            tx.rollback().await?;
            return Err(e.into());
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn delete(
        &self,
        tenant: &str,
        collection: &str,
        id: &str,
        expected: Option<u64>,
    ) -> CapResult<bool> {
        let deleted = self
            .one(tenant, documents::delete(tenant, collection, id, expected))
            .await?;
        if !deleted.is_empty() {
            return Ok(true);
        }
        let current = match expected {
            Some(_) => self.version(tenant, collection, id).await?,
            None => None,
        };
        Ok(rules::missed_delete(collection, id, expected, current)?)
    }

    async fn query(
        &self,
        tenant: &str,
        collection: &str,
        filters: &[FieldFilter],
        limit: u32,
        cursor: Option<&str>,
    ) -> CapResult<Page> {
        rules::check_limit(limit)?;
        // Built first: a malformed filter is refused before any index is made for it.
        documents::query(
            tenant,
            collection,
            &filter_pairs(filters),
            limit,
            cursor,
            false,
        )?;
        let columns = self.ensure_field_index(filters).await;
        let statement = documents::query(
            tenant,
            collection,
            &filter_pairs(filters),
            limit,
            cursor,
            columns,
        )?;
        let mut docs: Vec<Document> = self
            .one(tenant, statement)
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

    async fn count(
        &self,
        tenant: &str,
        collection: &str,
        filters: &[FieldFilter],
    ) -> CapResult<u64> {
        documents::count(tenant, collection, &filter_pairs(filters), false)?;
        let columns = self.ensure_field_index(filters).await;
        let statement = documents::count(tenant, collection, &filter_pairs(filters), columns)?;
        Ok(self
            .one(tenant, statement)
            .await?
            .first()
            .map(|r| r.get::<_, i64>(0) as u64)
            .unwrap_or(0))
    }

    async fn list_collections(&self, tenant: &str) -> CapResult<Vec<String>> {
        Ok(self
            .one(tenant, documents::list_collections(tenant))
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    async fn scan(
        &self,
        tenant: &str,
        collection: &str,
        after: Option<&str>,
        limit: u32,
    ) -> CapResult<Vec<Document>> {
        rules::check_limit(limit)?;
        Ok(self
            .one(tenant, documents::scan(tenant, collection, after, limit))
            .await?
            .iter()
            .map(row_to_document)
            .collect())
    }

    async fn stats(&self, tenant: &str) -> CapResult<StorageStats> {
        let rows = self.one(tenant, documents::stats(tenant)).await?;
        let row = rows
            .first()
            .ok_or_else(|| CapabilityError::Internal("postgres: no totals row".into()))?;
        Ok(StorageStats {
            documents: row.get::<_, i64>(0) as u64,
            size_bytes: row.get::<_, i64>(1) as u64,
        })
    }

    async fn import(
        &self,
        tenant: &str,
        docs: &[Document],
        mode: ImportMode,
    ) -> CapResult<ImportOutcome> {
        if docs.is_empty() {
            return Ok(ImportOutcome::default());
        }
        let tenant_param = tenant.to_string();
        let collections: Vec<&str> = docs.iter().map(|d| d.collection.as_str()).collect();
        let ids: Vec<&str> = docs.iter().map(|d| d.id.as_str()).collect();
        let data: Vec<&str> = docs.iter().map(|d| d.data.as_str()).collect();
        let versions: Vec<i64> = docs.iter().map(|d| d.version as i64).collect();
        let created: Vec<i64> = docs.iter().map(|d| d.created_at as i64).collect();
        let updated: Vec<i64> = docs.iter().map(|d| d.updated_at as i64).collect();
        // One statement per batch, in the tenant's transaction: the arrays travel as six
        // parameters.
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(classify)?;
        tx.batch_execute(&schema::enter_scope(tenant))
            .await
            .map_err(classify)?;
        let rows = tx
            .query(
                documents::import(mode).as_str(),
                &[
                    &tenant_param,
                    &collections,
                    &ids,
                    &data,
                    &versions,
                    &created,
                    &updated,
                ],
            )
            .await
            .map_err(classify)?;
        let mut outcome = ImportOutcome {
            written: rows.len() as u64,
            ..Default::default()
        };
        if rows.len() == docs.len() {
            tx.commit().await.map_err(classify)?;
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
        let existing = tx
            .query(
                documents::existing_for_import().as_str(),
                &[&tenant_param, &rest_collections, &rest_ids],
            )
            .await
            .map_err(classify)?;
        tx.commit().await.map_err(classify)?;
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

    async fn change(
        &self,
        tenant: &str,
        writes: &[Write],
        removals: &[Removal],
        record: &AuditEntry,
    ) -> CapResult<Changed> {
        check_audit_scope(tenant, record)?;
        for w in writes {
            rules::check_write(&w.collection, &w.id, &w.data)?;
        }
        // Appends are ordered by a per-chain lock, so no host loses a race for a place; a
        // host without it (or a lock lost to a restart) still cannot fork the chain, since
        // the place is the primary key: the loser's whole change is retried.
        let mut tries = 0;
        loop {
            tries += 1;
            match self.change_once(tenant, writes, removals, record).await {
                Err(e) if tries < 5 && lost_chain_race(&e) => continue,
                other => return other,
            }
        }
    }

    async fn audit_list(&self, tenant: &str, filter: &AuditFilter) -> CapResult<Vec<StoredRecord>> {
        let found = self
            .one(tenant, audit_sql::list(Postgres, tenant, filter))
            .await?;
        Ok(found.iter().map(row_to_record).collect())
    }

    async fn audit_scan(
        &self,
        tenant: &str,
        after_seq: u64,
        since: u64,
        limit: u32,
    ) -> CapResult<Vec<StoredRecord>> {
        let statement = audit_sql::scan(Postgres, tenant, after_seq, since, limit);
        Ok(self
            .one(tenant, statement)
            .await?
            .iter()
            .map(row_to_record)
            .collect())
    }

    async fn audit_tenants(&self) -> CapResult<Vec<String>> {
        let found = self.one(SERVER_SCOPE, audit_sql::tenants(Postgres)).await?;
        Ok(found.iter().map(|r| r.get(0)).collect())
    }

    async fn audit_checkpoints(&self, tenant: &str) -> CapResult<Vec<SignedCheckpoint>> {
        let found = self
            .one(tenant, audit_sql::checkpoints(Postgres, tenant))
            .await?;
        Ok(found.iter().map(row_to_checkpoint).collect())
    }

    async fn audit_head(&self, tenant: &str) -> CapResult<Option<ChainHead>> {
        let found = self
            .one(tenant, audit_sql::head_of(Postgres, tenant))
            .await?;
        Ok(found.first().map(|r| ChainHead {
            tenant: tenant.to_string(),
            seq: r.get::<_, i64>(0) as u64,
            hash: r.get(1),
            checkpointed: r.get::<_, i64>(2) as u64,
            last_signature: r.get(3),
        }))
    }

    async fn audit_add_checkpoint(&self, checkpoint: &SignedCheckpoint) -> CapResult<bool> {
        // Under the chain's lock, so two hosts checkpointing at once cannot both follow
        // the same checkpoint.
        let tenant = &checkpoint.checkpoint.tenant;
        let client = self.client().await?;
        let statements = [
            audit_sql::postgres_chain_lock(tenant),
            audit_sql::insert_checkpoint(Postgres, checkpoint),
        ];
        let answers = scope::run(&client, tenant, &statements).await?;
        Ok(answers.get(1).is_some_and(|rows| !rows.is_empty()))
    }

    async fn audit_prune(&self, tenant: &str, before_seq: u64) -> CapResult<u64> {
        // The app role may not remove records: retention runs as the connecting role (the
        // tables' owner), which the append-only trigger still holds to the checkpoint rule.
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(classify)?;
        execute(&tx, &schema::server_scope_setting(SERVER_SCOPE))
            .await
            .map_err(classify)?;
        let statement = audit_sql::prune(Postgres, tenant, before_seq);
        let params = bound(&statement);
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| &**p as _).collect();
        let removed = tx
            .execute(statement.sql.as_str(), &refs)
            .await
            .map_err(classify)?;
        tx.commit().await.map_err(classify)?;
        Ok(removed)
    }

    async fn meta(&self, key: &str) -> CapResult<Option<String>> {
        Ok(self
            .one(SERVER_SCOPE, schema::read_meta(key))
            .await?
            .first()
            .map(|r| r.get(0)))
    }

    async fn set_meta(&self, key: &str, value: Option<&str>) -> CapResult<()> {
        let statement = match value {
            Some(v) => schema::write_meta(key, v),
            None => schema::remove_meta(key),
        };
        self.one(SERVER_SCOPE, statement).await.map(drop)
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
        let refused =
            documents::count("t", "c", &filter_pairs(&bad), false).map_err(CapabilityError::from);
        assert!(matches!(refused, Err(CapabilityError::Invalid(_))));
    }
}
