//! The app on Spin with outbound PostgreSQL (`database_url` set), served by the stand-in
//! host as `spin up` serves it: a fresh app and adapter instance per request, every
//! `spin:postgres` open its own server connection. From an empty database and from one a
//! native host created, features and the MCP walk answer and every document lands in
//! PostgreSQL; two Spin applications and a native host race agents over one database
//! without a double claim.

mod common;
mod spin_support;

use common::Marcus;
use common::team::PrivateDatabase;
use serde_json::{Value, json};
use spin_support::app_requests::{serve, serve_with_headers};
use spin_support::test_host::SpinStores;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const SUITE: &str = "Spin adapter with PostgreSQL";

/// A Spin application's stores with storage in `db`.
fn spin_on(db: &PrivateDatabase) -> SpinStores {
    let mut stores = SpinStores::new();
    stores
        .variables
        .insert("database_url".into(), db.url.clone());
    stores
}

/// A server that answers the board's JSON tools: a native host or a Spin application.
#[derive(Clone, Copy)]
enum Front<'a> {
    Native(&'a Marcus),
    Spin(&'a SpinStores),
}

impl Front<'_> {
    /// Calls `/api/tools/{name}`; (status, JSON body).
    fn tool(&self, name: &str, args: Value) -> (u16, Value) {
        let path = format!("/api/tools/{name}");
        let (status, body) = match self {
            Front::Native(m) => {
                let a = m.post_json(&path, &args);
                (a.status, String::from_utf8_lossy(&a.body).into_owned())
            }
            Front::Spin(stores) => serve(stores, "POST", &path, &[], &args.to_string()),
        };
        let value = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("{name} answered {status} with non-JSON ({e}): {body}"));
        (status, value)
    }

    /// Calls a tool that must answer 200.
    fn ok(&self, name: &str, args: Value) -> Value {
        let (status, body) = self.tool(name, args);
        assert_eq!(status, 200, "{name}: {body}");
        body
    }
}

/// An MCP session with the app on Spin.
struct McpSession<'a> {
    stores: &'a SpinStores,
    id: String,
    next: u64,
}

impl<'a> McpSession<'a> {
    /// `initialize` and `notifications/initialized`, as any MCP client starts.
    fn open(stores: &'a SpinStores) -> Self {
        let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "spin-postgres-suite", "version": "1"}}});
        let (status, headers, body) = serve_with_headers(
            stores,
            "POST",
            "/mcp",
            &[("accept", "application/json, text/event-stream")],
            &init.to_string(),
        );
        assert_eq!(status, 200, "initialize: {body}");
        let id = headers
            .iter()
            .find(|(n, _)| n == "mcp-session-id")
            .map(|(_, v)| v.clone())
            .expect("initialize returns Mcp-Session-Id");
        let session = Self {
            stores,
            id,
            next: 1,
        };
        let (status, _) =
            session.post(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        assert_eq!(status, 202);
        session
    }

    fn post(&self, message: &Value) -> (u16, String) {
        serve(
            self.stores,
            "POST",
            "/mcp",
            &[
                ("accept", "application/json, text/event-stream"),
                ("mcp-session-id", &self.id),
                ("mcp-protocol-version", "2025-06-18"),
            ],
            &message.to_string(),
        )
    }

    /// `tools/call`; the structured result, which must not be an error.
    fn call(&mut self, name: &str, arguments: Value) -> Value {
        self.next += 1;
        let (status, body) = self.post(&json!({"jsonrpc": "2.0", "id": self.next,
            "method": "tools/call", "params": {"name": name, "arguments": arguments}}));
        assert_eq!(status, 200, "{name}: {body}");
        let answer: Value = serde_json::from_str(&body).unwrap();
        let result = &answer["result"];
        assert_eq!(result["isError"], false, "{name}: {body}");
        result["structuredContent"].clone()
    }
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

/// Create a diamond (api → ui, docs → release), register two agents, and walk it over MCP
/// until every task is done; returns the project id.
fn diamond_walk(stores: &SpinStores) -> String {
    let mut mcp = McpSession::open(stores);
    let created = mcp.call(
        "create_project",
        json!({"project_name": "diamond", "tasks": [
            {"name": "api"},
            {"name": "ui", "dependencies": ["api"]},
            {"name": "docs", "dependencies": ["api"]},
            {"name": "release", "dependencies": ["ui", "docs"]}]}),
    );
    let project = created["project_id"].as_str().unwrap().to_string();
    for agent in ["ada", "bob"] {
        mcp.call(
            "register_agent",
            json!({"agent_id": agent, "name": agent, "role": "dev", "project_id": project}),
        );
    }
    let mut done = Vec::new();
    for _round in 0..10 {
        for agent in ["ada", "bob"] {
            let next = mcp.call("request_next_task", json!({"agent_id": agent}));
            if next["success"] != true {
                continue;
            }
            let task = next["task"]["id"].as_str().unwrap().to_string();
            let finished = mcp.call(
                "report_task_progress",
                json!({"agent_id": agent, "task_id": task, "status": "completed", "progress": 100}),
            );
            assert_eq!(finished["status"], "done", "{finished}");
            done.push(next["task"]["name"].as_str().unwrap().to_string());
        }
        if done.len() == 4 {
            break;
        }
    }
    assert_eq!(done.len(), 4, "the walk finished: {done:?}");
    assert_eq!(done[0], "api", "dependencies first: {done:?}");
    assert_eq!(done[3], "release", "dependencies first: {done:?}");
    let status = mcp.call("get_project_status", json!({"project_id": project}));
    assert_eq!(status["status"]["completion_percentage"], 100.0, "{status}");
    project
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
    let tasks = Front::Native(&native).ok("get_all_board_tasks", json!({"project_id": project}));
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
    let made = Front::Native(&native).ok(
        "create_project",
        json!({"project_name": "native", "tasks": [{"name": "n1"}]}),
    );
    let stores = spin_on(&db);
    let (status, raw) = serve(&stores, "PUT", "/api/storage/notes/n1", &[], r#"{"k":1}"#);
    assert_eq!(status, 200, "{raw}");
    diamond_walk(&stores);

    // The Spin application sees and finishes the native host's project, and back.
    let spin = Front::Spin(&stores);
    let project = made["project_id"].as_str().unwrap();
    spin.ok(
        "register_agent",
        json!({"agent_id": "cy", "name": "cy", "role": "dev", "project_id": project}),
    );
    let next = spin.ok("request_next_task", json!({"agent_id": "cy"}));
    assert_eq!(next["task"]["name"], "n1", "{next}");
    let task = next["task"]["id"].as_str().unwrap();
    spin.ok(
        "report_task_progress",
        json!({"agent_id": "cy", "task_id": task, "status": "completed", "progress": 100}),
    );
    let seen = Front::Native(&native).ok("get_project_status", json!({"project_id": project}));
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
    let fronts = [
        Front::Spin(&east),
        Front::Spin(&west),
        Front::Native(&native),
    ];
    const TASKS: usize = 48;
    let tasks: Vec<Value> = (0..TASKS)
        .map(|i| {
            let deps = if i >= 8 {
                vec![format!("t{}", i - 8)]
            } else {
                vec![]
            };
            json!({"name": format!("t{i}"), "dependencies": deps})
        })
        .collect();
    let created = fronts[0].ok(
        "create_project",
        json!({"project_name": "race", "tasks": tasks}),
    );
    let project = created["project_id"].as_str().unwrap().to_string();

    let completed = AtomicUsize::new(0);
    let claims: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());
    let deadline = Instant::now() + Duration::from_secs(240);
    std::thread::scope(|s| {
        for n in 0..8 {
            let (front, completed, claims, project) =
                (fronts[n % 3], &completed, &claims, &project);
            s.spawn(move || {
                let agent = format!("agent-{n}");
                front.ok(
                    "register_agent",
                    json!({"agent_id": agent, "name": agent, "role": "dev", "project_id": project}),
                );
                while completed.load(Ordering::SeqCst) < TASKS {
                    assert!(Instant::now() < deadline, "the race did not finish in time");
                    let next = front.ok("request_next_task", json!({"agent_id": agent}));
                    if next["success"] != true {
                        std::thread::sleep(Duration::from_millis(30));
                        continue;
                    }
                    assert_eq!(next["already_assigned"], false, "{agent} got a second task");
                    let task = next["task"]["id"].as_str().unwrap().to_string();
                    claims.lock().unwrap().push((task.clone(), agent.clone()));
                    let done = front.ok(
                        "report_task_progress",
                        json!({"agent_id": agent, "task_id": task, "status": "completed", "progress": 100}),
                    );
                    assert_eq!(done["status"], "done", "{done}");
                    completed.fetch_add(1, Ordering::SeqCst);
                }
            });
        }
    });
    let claims = claims.into_inner().unwrap();
    let distinct: HashSet<&String> = claims.iter().map(|(t, _)| t).collect();
    assert_eq!(claims.len(), TASKS, "each task claimed once");
    assert_eq!(distinct.len(), TASKS, "no task went to two agents");

    // PostgreSQL's own record agrees: one assignment per task, completed by its holder.
    let events = db.query_text(&format!(
        "SELECT data::text FROM documents WHERE collection = 'events' AND data ->> 'project_id' = '{project}'"
    ));
    let mut assigned: HashMap<String, Vec<String>> = HashMap::new();
    let mut finished: HashMap<String, Vec<String>> = HashMap::new();
    for line in events.lines() {
        let e: Value = serde_json::from_str(line).unwrap();
        let (task, agent) = (
            e["task_id"].as_str().unwrap_or("").to_string(),
            e["agent_id"].as_str().unwrap_or("").to_string(),
        );
        match e["kind"].as_str() {
            Some("task_assigned") => assigned.entry(task).or_default().push(agent),
            Some("task_completed") => finished.entry(task).or_default().push(agent),
            _ => {}
        }
    }
    assert_eq!(assigned.len(), TASKS);
    for (task, agents) in &assigned {
        assert_eq!(agents.len(), 1, "{task} assigned {} times", agents.len());
        assert_eq!(finished.get(task), Some(agents), "completed by its holder");
    }
    assert_eq!(sqlite_documents(&east) + sqlite_documents(&west), 0);
}
