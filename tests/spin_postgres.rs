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
