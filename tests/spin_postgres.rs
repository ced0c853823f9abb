//! The app on Spin with outbound PostgreSQL (`database_url` set), served by the stand-in
//! host as `spin up` serves it: a fresh app and adapter instance per request, every
//! `spin:postgres` open its own server connection. From an empty database and from one a
//! native host created, features and the MCP walk answer and every document lands in
//! PostgreSQL; two Spin applications and a native host race agents over one database
//! without a double claim.

mod common;
mod spin_support;

use common::Marcus;
use common::board::race_through_chains;
use common::serves::{Serves, ok};
use common::team::PrivateDatabase;
use serde_json::{Value, json};
use spin_support::app_requests::serve;
use spin_support::board_walk::{assert_each_task_assigned_once_in, diamond_walk};
use spin_support::tenants::{self, PgSeeds, Seeds};
use spin_support::test_host::SpinStores;

const SUITE: &str = "Spin adapter with PostgreSQL";

/// A Spin application's stores with storage in `db`.
fn spin_on(db: &PrivateDatabase) -> SpinStores {
    let mut stores = SpinStores::new();
    stores
        .variables
        .insert("database_url".into(), db.url.clone());
    stores
}

/// Documents of `collection` in the database, read with SQL beside Marcus.
fn rows_in(db: &PrivateDatabase, collection: &str) -> usize {
    db.query_text(&format!(
        "SELECT COUNT(*)::text FROM documents WHERE collection = '{collection}'"
    ))
    .parse()
    .unwrap()
}

/// Whether the Spin application's own SQLite holds any board document.
fn sqlite_documents(stores: &SpinStores) -> i64 {
    let db = stores.sqlite.lock().unwrap();
    db.query_row(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'documents'",
        [],
        |r| r.get::<_, i64>(0),
    )
    .and_then(|tables| {
        if tables == 0 {
            Ok(0)
        } else {
            db.query_row("SELECT COUNT(*) FROM documents", [], |r| r.get(0))
        }
    })
    .unwrap()
}

#[test]
fn from_an_empty_database_features_and_the_walk_answer_and_documents_land_in_postgres() {
    let Some(db) = PrivateDatabase::create(SUITE) else {
        return;
    };
    let stores = spin_on(&db);
    let (status, features) = serve(&stores, "GET", "/api/features", &[], "");
    assert_eq!(status, 200, "{features}");
    let features: Value = serde_json::from_str(&features).unwrap();
    assert_eq!(features["backends"]["storage"]["name"], "postgres");
    assert_eq!(
        features["backends"]["storage"]["healthy"], true,
        "{features}"
    );

    let project = diamond_walk(&stores);
    assert_eq!(rows_in(&db, "projects"), 1);
    assert_eq!(rows_in(&db, "tasks"), 4);
    assert_eq!(rows_in(&db, "agents"), 2);
    assert!(rows_in(&db, "events") >= 8, "assignments and completions");
    assert_eq!(
        sqlite_documents(&stores),
        0,
        "no document stayed in Spin SQLite"
    );

    // A native host on the same database reads the board the Spin application wrote.
    let native = Marcus::start_env(&[], &[("DATABASE_URL", &db.url)]);
    let tasks = ok(
        &native,
        "get_all_board_tasks",
        json!({"project_id": project}),
    );
    let statuses: Vec<&str> = tasks["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["done"; 4]);
}

#[test]
fn on_a_database_a_native_host_created_the_walk_answers() {
    let Some(db) = PrivateDatabase::create(SUITE) else {
        return;
    };
    let native = Marcus::start_env(&[], &[("DATABASE_URL", &db.url)]);
    let made = ok(
        &native,
        "create_project",
        json!({"project_name": "native", "tasks": [{"name": "n1"}]}),
    );
    let stores = spin_on(&db);
    let (status, raw) = serve(&stores, "PUT", "/api/storage/notes/n1", &[], r#"{"k":1}"#);
    assert_eq!(status, 200, "{raw}");
    diamond_walk(&stores);

    // The Spin application sees and finishes the native host's project, and back.
    let project = made["project_id"].as_str().unwrap();
    ok(
        &stores,
        "register_agent",
        json!({"agent_id": "cy", "name": "cy", "role": "dev", "project_id": project}),
    );
    let next = ok(&stores, "request_next_task", json!({"agent_id": "cy"}));
    assert_eq!(next["task"]["name"], "n1", "{next}");
    let task = next["task"]["id"].as_str().unwrap();
    ok(
        &stores,
        "report_task_progress",
        json!({"agent_id": "cy", "task_id": task, "status": "completed", "progress": 100}),
    );
    let seen = ok(
        &native,
        "get_project_status",
        json!({"project_id": project}),
    );
    assert_eq!(seen["status"]["completion_percentage"], 100.0, "{seen}");
}

#[test]
fn each_request_opens_at_most_one_connection_and_keeps_none() {
    let Some(db) = PrivateDatabase::create(SUITE) else {
        return;
    };
    let stores = spin_on(&db);
    diamond_walk(&stores);
    let requests = stores.requests_served();
    let opened = stores.postgres_connections_opened();
    assert!(requests > 10, "{requests} requests");
    assert!(
        opened <= requests,
        "{opened} PostgreSQL connections for {requests} requests: one per request at most"
    );
    let open_now: usize = db
        .query_text(&format!(
            "SELECT COUNT(*)::text FROM pg_stat_activity WHERE datname = '{}' AND pid <> pg_backend_pid()",
            db.name
        ))
        .parse()
        .unwrap();
    assert_eq!(open_now, 0, "no connection outlives its request");
}

#[test]
fn two_spin_applications_and_a_native_host_race_eight_agents_without_a_double_claim() {
    let Some(db) = PrivateDatabase::create(SUITE) else {
        return;
    };
    // The first requests of both Spin applications race to create the schema.
    let (east, west) = (spin_on(&db), spin_on(&db));
    std::thread::scope(|s| {
        for stores in [&east, &west] {
            s.spawn(move || {
                let (status, body) = serve(stores, "GET", "/api/features", &[], "");
                assert_eq!(status, 200, "{body}");
            });
        }
    });
    let native = Marcus::start_env(&[], &[("DATABASE_URL", &db.url)]);
    let servers: [&dyn Serves; 3] = [&east, &west, &native];
    let project = race_through_chains(&servers, 8, 48, 8).project;
    assert_each_task_assigned_once_in(&db, &project, 48);
    assert_eq!(sqlite_documents(&east) + sqlite_documents(&west), 0);
}

#[test]
fn two_tenants_on_spin_postgres_see_nothing_of_each_other() {
    let Some(db) = PrivateDatabase::create(SUITE) else {
        return;
    };
    let mut stores = spin_on(&db);
    stores
        .variables
        .insert("auth_required".into(), "true".into());
    tenants::two_tenants_stay_apart(&stores, &PgSeeds(db.url.clone()));
    assert_eq!(
        sqlite_documents(&stores),
        0,
        "no document stayed in Spin SQLite"
    );
}

#[test]
fn the_schema_spin_makes_forces_row_level_security_and_an_unscoped_query_sees_nothing() {
    let Some(db) = PrivateDatabase::create(SUITE) else {
        return;
    };
    let stores = spin_on(&db);
    let (status, body) = serve(&stores, "PUT", "/api/storage/notes/n1", &[], r#"{"k":1}"#);
    assert_eq!(status, 200, "{body}");
    let forced = |condition: &str| {
        db.query_text(&format!(
            "SELECT COALESCE(string_agg(c.relname, ',' ORDER BY c.relname), '') FROM pg_class c
             WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r'
               AND {condition}"
        ))
    };
    let policed = "c.relrowsecurity AND c.relforcerowsecurity
                   AND EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid)";
    assert_eq!(
        forced(policed),
        "audit_checkpoints,audit_log,documents,marcus_meta"
    );
    assert_eq!(
        forced(&format!("NOT ({policed})")),
        "",
        "every table has row-level security forced and a policy"
    );
    // As the app role, without a tenant set: nothing; with the default tenant: its note.
    let mut client = postgres::Client::connect(&db.url, postgres::NoTls).unwrap();
    let mut tx = client.transaction().unwrap();
    tx.batch_execute("SET LOCAL ROLE marcus_app").unwrap();
    let count: i64 = tx
        .query_one("SELECT count(*) FROM documents", &[])
        .unwrap()
        .get(0);
    assert_eq!(count, 0, "no tenant set: no rows");
    tx.batch_execute(&marcus_core::store::postgres_sql::schema::enter_scope(
        "default",
    ))
    .unwrap();
    let count: i64 = tx
        .query_one("SELECT count(*) FROM documents", &[])
        .unwrap()
        .get(0);
    assert_eq!(count, 1, "the default tenant's note");
}

/// The previous release's PostgreSQL tables (schema 1), as its hosts made them.
const SCHEMA_1_POSTGRES: &str = "
    CREATE TABLE marcus_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE documents (
        collection TEXT COLLATE \"C\" NOT NULL,
        id TEXT COLLATE \"C\" NOT NULL,
        data JSONB NOT NULL,
        version BIGINT NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (collection, id)
    );
    CREATE INDEX documents_data ON documents USING GIN (data jsonb_path_ops);
    INSERT INTO marcus_meta (key, value) VALUES ('schema_version', '1');
    INSERT INTO documents VALUES
      ('projects', 'p1', '{\"id\": \"p1\", \"name\": \"old-board\", \"created_at\": 1}', 1, 1, 1),
      ('auth_settings', 'token_secret', '{\"secret\": \"00\"}', 1, 1, 1);";

#[test]
fn a_board_made_before_tenants_becomes_the_default_tenant_on_spin_postgres() {
    let Some(db) = PrivateDatabase::create(SUITE) else {
        return;
    };
    postgres::Client::connect(&db.url, postgres::NoTls)
        .unwrap()
        .batch_execute(SCHEMA_1_POSTGRES)
        .unwrap();
    let stores = spin_on(&db);
    let (status, projects) = serve(&stores, "GET", "/api/projects", &[], "");
    assert_eq!(status, 200, "{projects}");
    assert!(projects.contains("old-board"), "{projects}");
    let seeds = PgSeeds(db.url.clone());
    assert_eq!(seeds.tenants_of("projects"), ["default"]);
    assert_eq!(seeds.tenants_of("auth_settings"), ["_server"]);
    // Read as the owner in the server scope, as the metadata table's policy requires.
    let mut client = postgres::Client::connect(&db.url, postgres::NoTls).unwrap();
    let mut tx = client.transaction().unwrap();
    tx.batch_execute("SELECT set_config('marcus.tenant', '_server', true)")
        .unwrap();
    let version: String = tx
        .query_one(
            "SELECT value FROM marcus_meta WHERE key = 'schema_version'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(
        version,
        marcus_core::store::schema_version::SCHEMA_VERSION.to_string()
    );
}
