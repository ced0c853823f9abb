//! Tenants on the Spin adapter as an installation's operator makes them: the token secret,
//! tenant records and tokens written straight into storage in the server scope (as a host
//! sharing the store would), requests made with a tenant's token, and the walk that proves
//! two tenants see nothing of each other on whichever store the adapter uses.

use super::test_host::SpinStores;
use crate::common::serves::{Exchange, Serves, ok, tool};
use marcus_core::store::statement::{SqlValue, Statement};
use marcus_core::store::{Expect, WriteRef, postgres_sql, sqlite_sql};
use marcus_identity::digest::ServerSecret;
use marcus_identity::principal::Role;
use marcus_identity::record::{COLLECTION as TOKENS, SECRET_ID, SETTINGS_COLLECTION, TokenRecord};
use marcus_identity::tenant::{self, Quotas, SERVER_SCOPE, Status, TenantRecord};
use marcus_identity::token::Token;
use serde_json::{Value, json};

/// Somewhere documents can be written in any scope, beside the adapter.
pub trait Seeds {
    /// Writes `collection/id` with `data` in `scope` (a tenant or the server scope).
    fn seed(&self, scope: &str, collection: &str, id: &str, data: &str);

    /// The tenants holding documents of `collection`, read beside the adapter.
    fn tenants_of(&self, collection: &str) -> Vec<String>;
}

fn write<'a>(collection: &'a str, id: &'a str, data: &'a str) -> WriteRef<'a> {
    WriteRef {
        collection,
        id,
        data,
        expect: Expect::Any,
    }
}

/// The stand-in's Spin SQLite.
impl Seeds for SpinStores {
    fn seed(&self, scope: &str, collection: &str, id: &str, data: &str) {
        let statement = sqlite_sql::documents::put(scope, write(collection, id, data), 1);
        let conn = self.sqlite.lock().unwrap();
        let mut prepared = conn.prepare(&statement.sql).unwrap();
        let mut rows = prepared
            .query(marcus_host::storage::sqlite::bound(&statement))
            .unwrap();
        assert!(rows.next().unwrap().is_some(), "{collection}/{id} stored");
    }

    fn tenants_of(&self, collection: &str) -> Vec<String> {
        let conn = self.sqlite.lock().unwrap();
        let mut prepared = conn
            .prepare("SELECT DISTINCT tenant FROM documents WHERE collection = ?1 ORDER BY tenant")
            .unwrap();
        prepared
            .query_map([collection], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }
}

/// A PostgreSQL database, written as the superuser the suites connect as (row-level
/// security does not hold it back).
pub struct PgSeeds(pub String);

impl PgSeeds {
    fn run(&self, statement: &Statement) -> Vec<postgres::Row> {
        let params: Vec<Box<dyn postgres::types::ToSql + Sync>> = statement
            .params
            .iter()
            .map(|p| -> Box<dyn postgres::types::ToSql + Sync> {
                match p {
                    SqlValue::Integer(i) => Box::new(*i),
                    SqlValue::Real(r) => Box::new(*r),
                    SqlValue::Text(t) => Box::new(t.clone()),
                }
            })
            .collect();
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
            params.iter().map(|p| p.as_ref()).collect();
        postgres::Client::connect(&self.0, postgres::NoTls)
            .unwrap()
            .query(&statement.sql, &refs)
            .unwrap_or_else(|e| panic!("{}: {e}", statement.sql))
    }
}

impl Seeds for PgSeeds {
    fn seed(&self, scope: &str, collection: &str, id: &str, data: &str) {
        let statement = postgres_sql::documents::put(scope, write(collection, id, data), 1);
        assert_eq!(self.run(&statement).len(), 1, "{collection}/{id} stored");
    }

    fn tenants_of(&self, collection: &str) -> Vec<String> {
        self.run(&Statement::new(
            "SELECT DISTINCT tenant FROM documents WHERE collection = $1 ORDER BY tenant",
            vec![collection.into()],
        ))
        .iter()
        .map(|r| r.get(0))
        .collect()
    }
}

/// The installation's token secret, stored where the adapter reads it.
pub fn install_secret(seeds: &dyn Seeds) -> ServerSecret {
    let secret = ServerSecret::from_bytes([42; 32]);
    seeds.seed(
        SERVER_SCOPE,
        SETTINGS_COLLECTION,
        SECRET_ID,
        &json!({"secret": secret.to_hex()}).to_string(),
    );
    secret
}

/// A tenant record in the registry.
pub fn register_tenant(seeds: &dyn Seeds, name: &str, status: Status) {
    let mut record = TenantRecord::new(name, Quotas::default(), 1);
    if status == Status::Disabled {
        record.status = Status::Disabled;
        record.disabled_at = Some(2);
    }
    seeds.seed(
        SERVER_SCOPE,
        tenant::COLLECTION,
        name,
        &serde_json::to_string(&record).unwrap(),
    );
}

/// A token of `tenant` with `role`, stored as `marcus token create --tenant` stores one;
/// answers its `Authorization` header. `seed` makes the token's random part distinct.
pub fn token_of(
    seeds: &dyn Seeds,
    secret: &ServerSecret,
    tenant: &str,
    role: Role,
    seed: u8,
) -> String {
    let random: Vec<u8> = (0..64u8)
        .map(|i| i.wrapping_mul(13).wrapping_add(seed))
        .collect();
    let token = Token::from_random(&random).unwrap();
    let mut record = TokenRecord::new(
        &token,
        secret,
        &format!("{tenant}-{}", role.as_str()),
        role,
        vec![],
        1,
        u64::MAX / 4,
    );
    record.tenant = tenant.to_string();
    seeds.seed(
        SERVER_SCOPE,
        TOKENS,
        &record.id,
        &serde_json::to_string(&record).unwrap(),
    );
    format!("Bearer {}", token.reveal())
}

/// Requests to a server with one `Authorization` header.
pub struct As<'a> {
    /// The server (the stand-in's Spin application, a real `spin up`).
    pub server: &'a dyn Serves,
    /// The header.
    pub bearer: String,
}

impl Serves for As<'_> {
    fn exchange(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Exchange {
        let mut all = headers.to_vec();
        all.push(("authorization", &self.bearer));
        self.server.exchange(method, path, &all, body)
    }
}

/// What one tenant made, and every answer it was given.
struct Made {
    name: String,
    project: String,
    tasks: Vec<String>,
    answers: Vec<String>,
}

/// Sends one request and keeps the answer's body; (status, body).
fn send(me: &As, made: &mut Made, method: &str, path: &str, body: &str) -> (u16, String) {
    let (status, _, answer) = me.exchange(method, path, &[], body);
    made.answers.push(answer.clone());
    (status, answer)
}

/// A tenant's board and its raw storage, cache and realtime use, each under names the other
/// tenant uses too (`shared`), so a leak cannot hide behind different names.
fn make(me: &As, name: &str, events: u64) -> Made {
    let mut made = Made {
        name: name.to_string(),
        project: String::new(),
        tasks: Vec::new(),
        answers: Vec::new(),
    };
    let created = ok(
        me,
        "create_project",
        json!({"project_name": format!("{name}-board"),
               "tasks": [{"name": format!("{name}-t1")}, {"name": format!("{name}-t2")}]}),
    );
    made.project = created["project_id"].as_str().unwrap().to_string();
    let tasks_path = format!("/api/projects/{}/tasks", made.project);
    let (status, tasks) = send(me, &mut made, "GET", &tasks_path, "");
    assert_eq!(status, 200, "{tasks}");
    let tasks: Value = serde_json::from_str(&tasks).unwrap();
    made.tasks = tasks["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(made.tasks.len(), 2, "{tasks}");
    // The same agent id in both tenants: each tenant's agent is its own.
    ok(
        me,
        "register_agent",
        json!({"agent_id": "agent-1", "name": format!("{name}-agent"), "role": "dev",
               "project_id": made.project}),
    );
    for (path, body) in [
        (
            format!("/api/storage/notes/{name}-note"),
            json!({"owner": name}),
        ),
        ("/api/storage/notes/shared".into(), json!({"owner": name})),
    ] {
        let (status, answer) = send(me, &mut made, "PUT", &path, &body.to_string());
        assert_eq!(status, 200, "{path}: {answer}");
    }
    for key in [format!("{name}-key"), "shared".to_string()] {
        let (status, answer) = send(me, &mut made, "PUT", &format!("/api/cache/{key}"), name);
        assert_eq!(status, 200, "{key}: {answer}");
    }
    for n in 1..=events {
        let (status, answer) = send(
            me,
            &mut made,
            "POST",
            "/api/realtime/shared",
            &json!({"owner": name, "n": n}).to_string(),
        );
        assert_eq!((status, answer), (200, format!(r#"{{"seq":{n}}}"#)));
    }
    made
}

/// `path` with `foreign` (an id of the other tenant) answers exactly as the same path with
/// an id that exists nowhere: the same status (404) and the same body but for the id. The
/// answer is kept without the id it echoes (the caller's own words, not a leak).
fn answers_like_a_missing_id(me: &As, mine: &mut Made, method: &str, path: &str, foreign: &str) {
    let missing = format!("{}zz", &foreign[..foreign.len() - 2]);
    assert_ne!(missing, foreign);
    let (status, _, body) = me.exchange(method, path, &[], "");
    let (missing_status, _, missing_body) =
        me.exchange(method, &path.replace(foreign, &missing), &[], "");
    let body = body.replace(foreign, "<id>");
    assert_eq!(status, 404, "{method} {path} as {}: {body}", mine.name);
    assert_eq!(
        (status, body.as_str()),
        (
            missing_status,
            missing_body.replace(&missing, "<id>").as_str()
        ),
        "{method} {path}: another tenant's id answers as a missing one"
    );
    mine.answers.push(body);
}

/// Every way `me` could reach `other`'s data: its ids answer 404 as missing ones, names both
/// use answer `me`'s own, and no answer holds anything of `other`'s.
fn reaches_nothing_of(me: &As, mine: &mut Made, other: &Made, my_events: u64) {
    let o = &other.name;
    answers_like_a_missing_id(
        me,
        mine,
        "GET",
        &format!("/api/projects/{}", other.project),
        &other.project,
    );
    answers_like_a_missing_id(
        me,
        mine,
        "GET",
        &format!("/api/projects/{}/tasks", other.project),
        &other.project,
    );
    for task in &other.tasks {
        answers_like_a_missing_id(me, mine, "GET", &format!("/api/tasks/{task}"), task);
    }
    let (status, body) = tool(
        me,
        "get_all_board_tasks",
        json!({"project_id": other.project}),
    );
    assert_eq!(status, 404, "the tool as the route: {body}");
    mine.answers
        .push(body.to_string().replace(other.project.as_str(), "<id>"));

    answers_like_a_missing_id(
        me,
        mine,
        "GET",
        &format!("/api/storage/notes/{o}-note"),
        &format!("{o}-note"),
    );
    answers_like_a_missing_id(
        me,
        mine,
        "DELETE",
        &format!("/api/storage/notes/{o}-note"),
        &format!("{o}-note"),
    );
    let (status, shared) = send(me, mine, "GET", "/api/storage/notes/shared", "");
    assert_eq!(status, 200, "{shared}");
    let shared: Value = serde_json::from_str(&shared).unwrap();
    assert_eq!(shared["data"]["owner"], mine.name.as_str(), "{shared}");
    let (status, notes) = send(me, mine, "POST", "/api/storage/notes/_scan", "{}");
    assert_eq!(status, 200, "{notes}");
    let (status, collections) = send(me, mine, "GET", "/api/storage", "");
    assert_eq!(status, 200, "{collections}");

    answers_like_a_missing_id(
        me,
        mine,
        "GET",
        &format!("/api/cache/{o}-key"),
        &format!("{o}-key"),
    );
    let (status, cached) = send(me, mine, "GET", "/api/cache/shared", "");
    assert_eq!((status, cached.as_str()), (200, mine.name.as_str()));

    let (status, events) = send(me, mine, "GET", "/api/realtime/shared?since=0", "");
    assert_eq!(status, 200, "{events}");
    let events: Value = serde_json::from_str(&events).unwrap();
    assert_eq!(events["latest"], my_events, "{events}");
    let owners: Vec<&Value> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["payload"]["owner"])
        .collect();
    assert_eq!(owners, vec![&json!(mine.name); my_events as usize]);

    let (status, agents) = send(me, mine, "GET", "/api/agents", "");
    assert_eq!(status, 200, "{agents}");
    assert!(agents.contains(&format!("{}-agent", mine.name)), "{agents}");
    let (status, projects) = send(me, mine, "GET", "/api/projects", "");
    assert_eq!(status, 200, "{projects}");
    assert!(projects.contains(&mine.project), "{projects}");

    // The board's own walk stays on the tenant's tasks.
    let next = ok(me, "request_next_task", json!({"agent_id": "agent-1"}));
    mine.answers.push(next.to_string());
    let claimed = next["task"]["id"].as_str().unwrap_or_default();
    assert!(mine.tasks.iter().any(|t| t == claimed), "{next}");

    for answer in &mine.answers {
        for trace in [&other.name, &other.project]
            .into_iter()
            .chain(&other.tasks)
        {
            assert!(
                !answer.contains(trace.as_str()),
                "an answer to {} holds {trace:?} of {}: {answer}",
                mine.name,
                other.name
            );
        }
    }
}

/// Two tenants on one Spin application, each with an admin token, use the board, raw
/// storage, the cache and realtime under the same names; neither ever sees the other's data
/// or ids, and the other's ids answer exactly as missing ones. A disabled tenant's token, a
/// token of a tenant with no record and one naming the server scope are refused with 401.
/// `server` must require credentials; `seeds` writes to the store it uses.
pub fn two_tenants_stay_apart(server: &dyn Serves, seeds: &dyn Seeds) {
    // The first request makes the schema: the adapter looks its token up, finds none.
    let unknown = format!(
        "Bearer {}",
        Token::from_random(&[0xee; 64]).unwrap().reveal()
    );
    let (status, _, body) =
        server.exchange("GET", "/api/projects", &[("authorization", &unknown)], "");
    assert_eq!(status, 401, "an unknown token: {body}");
    let secret = install_secret(seeds);
    for (name, status) in [
        ("acme", Status::Active),
        ("globex", Status::Active),
        ("initech", Status::Disabled),
    ] {
        register_tenant(seeds, name, status);
    }
    let acme = As {
        server,
        bearer: token_of(seeds, &secret, "acme", Role::Admin, 1),
    };
    let globex = As {
        server,
        bearer: token_of(seeds, &secret, "globex", Role::Admin, 2),
    };

    let mut a = make(&acme, "acme", 2);
    let mut g = make(&globex, "globex", 1);
    assert_eq!(seeds.tenants_of("projects"), ["acme", "globex"]);
    assert_eq!(seeds.tenants_of("notes"), ["acme", "globex"]);

    reaches_nothing_of(&acme, &mut a, &g, 2);
    reaches_nothing_of(&globex, &mut g, &a, 1);

    // Clearing one tenant's cache leaves the other's entries.
    let (status, _) = send(&acme, &mut a, "DELETE", "/api/cache", "");
    assert_eq!(status, 200);
    let (status, _) = send(&acme, &mut a, "GET", "/api/cache/shared", "");
    assert_eq!(status, 404, "acme's cache is cleared");
    let (status, cached) = send(&globex, &mut g, "GET", "/api/cache/shared", "");
    assert_eq!((status, cached.as_str()), (200, "globex"));
    // A write under the other's id is the writer's own document.
    let (status, _) = send(
        &acme,
        &mut a,
        "PUT",
        "/api/storage/notes/globex-note",
        r#"{"owner":"acme"}"#,
    );
    assert_eq!(status, 200);
    let (_, note) = send(&globex, &mut g, "GET", "/api/storage/notes/globex-note", "");
    assert!(note.contains(r#""owner":"globex""#), "{note}");

    for (tenant, seed, why) in [
        ("initech", 3, "disabled"),
        ("ghost", 4, "does not exist"),
        (SERVER_SCOPE, 5, "not valid"),
    ] {
        let refused = As {
            server,
            bearer: token_of(seeds, &secret, tenant, Role::Admin, seed),
        };
        let (status, _, body) = refused.exchange("GET", "/api/projects", &[], "");
        assert_eq!(status, 401, "a token of {tenant}: {body}");
        assert!(body.contains(why), "a token of {tenant}: {body}");
    }
}
