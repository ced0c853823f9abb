//! Tenants on the real binary: two organisations on one installation never see or change
//! each other's data. A randomized run interleaves both tenants' board tools, raw storage,
//! cache, realtime, agents and cross-tenant probes on SQLite (one host) and on PostgreSQL
//! with Redis (two hosts, each request to either), and checks every answer, SSE and
//! WebSocket event and webhook delivery of one tenant for the other's names and ids. Also:
//! ids of another tenant answer exactly as missing ones; a disabled tenant's tokens are
//! refused; quotas answer 403 and 429; tenant admins manage only their own tokens and no
//! tenants; a board made before tenants (schema 1) becomes the default tenant; and on
//! PostgreSQL every table has forced row-level security under which the app role sees
//! nothing without a tenant.

mod common;

use common::Marcus;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

/// Runs `marcus SUBCOMMAND ARGS` on a data directory (or `DATABASE_URL`); answers stdout.
fn cli(dir: &Path, database_url: Option<&str>, args: &[&str]) -> String {
    common::cli::ok(dir, database_url, args)
}

fn cli_output(dir: &Path, database_url: Option<&str>, args: &[&str]) -> std::process::Output {
    common::cli::output(dir, database_url, args)
}

/// One tenant of a run: its admin token, the marker in every name it makes, and the ids
/// it learned.
struct Tenant {
    name: String,
    token: String,
    marker: String,
    ids: HashSet<String>,
    projects: Vec<String>,
    tasks: Vec<String>,
}

impl Tenant {
    /// Makes tenant `name` (the default tenant exists already) and an admin token of it.
    fn make(dir: &Path, db: Option<&str>, name: &str) -> Self {
        if name != "default" {
            cli(dir, db, &["tenant", "create", name]);
        }
        let token = cli(
            dir,
            db,
            &[
                "token", "create", "--tenant", name, "--role", "admin", "--name", "ops", "--quiet",
            ],
        )
        .trim()
        .to_string();
        Self {
            name: name.into(),
            token,
            marker: format!("secret-of-{name}"),
            ids: HashSet::new(),
            projects: Vec::new(),
            tasks: Vec::new(),
        }
    }

    fn auth(&self) -> String {
        format!("Bearer {}", self.token)
    }
}

fn call(m: &Marcus, t: &Tenant, method: &str, path: &str, body: Option<&Value>) -> common::Answer {
    let auth = t.auth();
    let mut headers = vec![("authorization", auth.as_str())];
    if body.is_some() {
        headers.push(("content-type", "application/json"));
    }
    let bytes = body.map(|b| b.to_string().into_bytes());
    m.request(method, path, &headers, bytes.as_deref())
}

/// Fails when `text`, something `owner` was given, names anything of `other`.
fn assert_clean(text: &str, owner: &Tenant, other: &Tenant, what: &str) {
    assert!(
        !text.contains(&other.marker),
        "{what} of {} carries {}'s data: {text}",
        owner.name,
        other.name
    );
    for id in &other.ids {
        assert!(
            !text.contains(id.as_str()),
            "{what} of {} carries {}'s id {id}: {text}",
            owner.name,
            other.name
        );
    }
}

/// A small reproducible random source (the seed is printed, so a failure can be replayed).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn seed() -> u64 {
    let seed = std::env::var("MARCUS_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    eprintln!("tenant isolation seed: {seed} (MARCUS_TEST_SEED replays it)");
    seed
}

/// One random operation of `t` on host `m`; every answer is checked for `o`'s data.
fn step(m: &Marcus, t: &mut Tenant, o: &Tenant, rng: &mut Rng, n: usize) {
    let op = rng.below(9);
    let answer = match op {
        // A project with two tasks.
        0 | 1 => {
            let a = call(
                m,
                t,
                "POST",
                "/api/tools/create_project",
                Some(&json!({"project_name": format!("{}-p{n}", t.marker),
                             "tasks": [{"name": format!("{}-t{n}a", t.marker)},
                                       {"name": format!("{}-t{n}b", t.marker)}]})),
            );
            assert_eq!(a.status, 200, "{}", a.text_prefix());
            let project = a.json()["project_id"].as_str().unwrap().to_string();
            t.ids.insert(project.clone());
            t.projects.push(project.clone());
            let tasks = call(m, t, "GET", &format!("/api/projects/{project}/tasks"), None);
            assert_eq!(tasks.status, 200);
            assert_clean(&String::from_utf8_lossy(&tasks.body), t, o, "task list");
            for task in tasks.json()["tasks"].as_array().into_iter().flatten() {
                let id = task["id"].as_str().or(task["task_id"].as_str()).unwrap();
                t.ids.insert(id.to_string());
                t.tasks.push(id.to_string());
            }
            a
        }
        // The same agent id in both tenants: each its own agent, each claiming its own work.
        2 | 3 => {
            let agent = "agent-1";
            let reg = call(
                m,
                t,
                "POST",
                "/api/tools/register_agent",
                Some(
                    &json!({"agent_id": agent, "name": format!("{}-agent", t.marker), "role": "dev"}),
                ),
            );
            assert_eq!(reg.status, 200, "{}", reg.text_prefix());
            assert_clean(&String::from_utf8_lossy(&reg.body), t, o, "registration");
            let next = call(
                m,
                t,
                "POST",
                "/api/tools/request_next_task",
                Some(&json!({"agent_id": agent, "project_id": t.projects.last()})),
            );
            if next.status == 404 {
                // Its own board is empty, whatever the other tenant holds.
                assert_eq!(next.error_code(), "no_project", "{}", next.text_prefix());
                assert!(t.projects.is_empty(), "{}", next.text_prefix());
                assert_clean(&String::from_utf8_lossy(&next.body), t, o, "answer");
                return;
            }
            assert_eq!(next.status, 200, "{}", next.text_prefix());
            let body = next.json();
            if let Some(task) = body["task"]["id"].as_str() {
                assert!(
                    t.tasks.iter().any(|x| x == task),
                    "claimed a task it never made"
                );
                let done = call(
                    m,
                    t,
                    "POST",
                    "/api/tools/report_task_progress",
                    Some(
                        &json!({"agent_id": agent, "task_id": task, "status": "completed",
                                 "progress": 100, "message": format!("{} done", t.marker)}),
                    ),
                );
                assert!(
                    done.status == 200 || done.status == 409,
                    "{}",
                    done.text_prefix()
                );
                assert_clean(&String::from_utf8_lossy(&done.body), t, o, "completion");
            }
            next
        }
        // Raw storage: a document under a name both tenants use.
        4 => {
            // What is there before this tenant writes: its own earlier note or nothing.
            let before = call(m, t, "GET", "/api/storage/notes/shared", None);
            assert_clean(&String::from_utf8_lossy(&before.body), t, o, "stored note");
            let put = call(
                m,
                t,
                "PUT",
                "/api/storage/notes/shared",
                Some(&json!({"text": t.marker, "n": n})),
            );
            assert!(
                put.status == 200 || put.status == 201,
                "{}",
                put.text_prefix()
            );
            let got = call(m, t, "GET", "/api/storage/notes/shared", None);
            assert_eq!(got.status, 200);
            assert!(String::from_utf8_lossy(&got.body).contains(&t.marker));
            call(m, t, "GET", "/api/storage/notes", None)
        }
        // Cache: one key name, each tenant's own value.
        5 => {
            // What is cached before this tenant writes: its own value or nothing.
            let before = call(m, t, "GET", "/api/cache/shared-key", None);
            assert_clean(&String::from_utf8_lossy(&before.body), t, o, "cached value");
            let theirs = call(m, t, "GET", &format!("/api/cache/only-{}", o.name), None);
            assert_eq!(
                theirs.status,
                404,
                "another tenant's key: {}",
                theirs.text_prefix()
            );
            let auth = t.auth();
            let own = m.request(
                "PUT",
                &format!("/api/cache/only-{}", t.name),
                &[
                    ("authorization", auth.as_str()),
                    ("content-type", "application/octet-stream"),
                ],
                Some(t.marker.as_bytes()),
            );
            assert!(own.status < 300, "{}", own.text_prefix());
            let put = m.request(
                "PUT",
                "/api/cache/shared-key",
                &[
                    ("authorization", auth.as_str()),
                    ("content-type", "application/octet-stream"),
                ],
                Some(t.marker.as_bytes()),
            );
            assert!(put.status < 300, "{}", put.text_prefix());
            let got = call(m, t, "GET", "/api/cache/shared-key", None);
            if got.status == 200 {
                assert_eq!(
                    got.body,
                    t.marker.as_bytes(),
                    "the cache answered another value"
                );
            }
            got
        }
        // Realtime: one channel name, each tenant's own events.
        6 => {
            let publish = call(
                m,
                t,
                "POST",
                "/api/realtime/shared",
                Some(&json!({"from": t.marker, "n": n})),
            );
            assert!(publish.status < 300, "{}", publish.text_prefix());
            call(m, t, "GET", "/api/realtime/shared?since=0", None)
        }
        // Another tenant's project and task ids answer exactly as ids that never existed.
        7 => {
            if let (Some(p), Some(task)) = (o.projects.first(), o.tasks.first()) {
                let theirs = call(m, t, "GET", &format!("/api/projects/{p}"), None);
                let missing = call(m, t, "GET", "/api/projects/no-such-project", None);
                assert_eq!(theirs.status, 404, "{}", theirs.text_prefix());
                assert_eq!(theirs.error_code(), missing.error_code());
                let ctx = call(
                    m,
                    t,
                    "POST",
                    "/api/tools/get_task_context",
                    Some(&json!({"task_id": task})),
                );
                let nothing = call(
                    m,
                    t,
                    "POST",
                    "/api/tools/get_task_context",
                    Some(&json!({"task_id": "no-such-task"})),
                );
                assert_eq!(ctx.status, nothing.status, "{}", ctx.text_prefix());
                assert_eq!(ctx.error_code(), nothing.error_code());
                assert_eq!(
                    ctx.json()["error"]["message"]
                        .as_str()
                        .map(|s| s.replace(task.as_str(), "X")),
                    nothing.json()["error"]["message"]
                        .as_str()
                        .map(|s| s.replace("no-such-task", "X")),
                    "the refusal must not tell an existing id from a missing one"
                );
                // The refusal names the id the caller sent, and nothing else of the other.
                assert!(!ctx.text_prefix().contains(&o.marker));
                return;
            } else {
                call(m, t, "GET", "/api/projects", None)
            }
        }
        // Listings.
        _ => call(m, t, "GET", "/api/projects", None),
    };
    assert_clean(&String::from_utf8_lossy(&answer.body), t, o, "answer");
}

/// Interleaves both tenants' operations over `hosts`, then checks what each tenant's live
/// streams carry.
fn interleave(hosts: &[&Marcus], a: &mut Tenant, b: &mut Tenant, steps: usize) {
    let mut rng = Rng(seed());
    for n in 0..steps {
        let host = hosts[rng.below(hosts.len() as u64) as usize];
        if rng.below(2) == 0 {
            step(host, a, b, &mut rng, n);
        } else {
            step(host, b, a, &mut rng, n);
        }
    }
    // Every tenant made something, so the checks above had ids to look for.
    assert!(!a.projects.is_empty() || !b.projects.is_empty());
    for host in hosts {
        for (t, o) in [(&*a, &*b), (&*b, &*a)] {
            let agents = call(host, t, "GET", "/api/realtime/agents?since=0", None);
            assert_clean(&String::from_utf8_lossy(&agents.body), t, o, "agent events");
            let sse = sse_events(host, t, "shared");
            assert!(
                sse.contains(&t.marker),
                "the SSE replay missed the tenant's own events"
            );
            assert_clean(&sse, t, o, "SSE stream");
            let ws = websocket_events(host, t, "shared");
            assert!(
                ws.contains(&t.marker),
                "the WebSocket replay missed the tenant's own events"
            );
            assert_clean(&ws, t, o, "WebSocket stream");
        }
    }
}

/// What `t`'s SSE stream of `channel` replays from the start within a second.
fn sse_events(m: &Marcus, t: &Tenant, channel: &str) -> String {
    let auth = t.auth();
    let mut stream = common::sse::SseStream::open_with(
        &m.url,
        &format!("/api/events/stream?channel={channel}&since=0"),
        &[("authorization", auth.as_str())],
    );
    let mut seen = Vec::new();
    let until = Instant::now() + Duration::from_secs(1);
    while let Some(event) = stream.next_event(until.saturating_duration_since(Instant::now())) {
        seen.push(event.data);
    }
    seen.join("\n")
}

/// What `t`'s WebSocket subscription to `channel` replays from the start within a second.
fn websocket_events(m: &Marcus, t: &Tenant, channel: &str) -> String {
    use tungstenite::client::IntoClientRequest;
    let url = format!("{}/api/ws", m.url.replace("http://", "ws://"));
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("authorization", t.auth().parse().unwrap());
    let (mut ws, _) = tungstenite::connect(request).expect("websocket connect");
    if let tungstenite::stream::MaybeTlsStream::Plain(s) = ws.get_mut() {
        s.set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
    }
    ws.send(tungstenite::Message::text(
        json!({"type": "subscribe", "channel": channel, "since": 0}).to_string(),
    ))
    .unwrap();
    let mut seen = Vec::new();
    let until = Instant::now() + Duration::from_secs(1);
    while Instant::now() < until {
        match ws.read() {
            Ok(tungstenite::Message::Text(text)) => seen.push(text.to_string()),
            Ok(_) => {}
            Err(_) => continue,
        }
    }
    seen.join("\n")
}

#[test]
fn two_tenants_on_sqlite_never_see_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let mut acme = Tenant::make(dir.path(), None, "acme");
    let mut globex = Tenant::make(dir.path(), None, "globex");
    let m = Marcus::spawn(Some(dir.path()), &["--require-auth"], &[]);
    interleave(&[&m], &mut acme, &mut globex, 120);
}

#[test]
fn two_tenants_on_postgres_across_two_hosts_never_see_each_other() {
    let Some(team) = common::team::team("tenants") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = Some(team.db.url.as_str());
    let mut acme = Tenant::make(dir.path(), db, "acme");
    let mut globex = Tenant::make(dir.path(), db, "globex");
    let env = team.env();
    let one = Marcus::spawn(Some(dir.path()), &["--require-auth"], &env);
    let other_dir = tempfile::tempdir().unwrap();
    let two = Marcus::spawn(Some(other_dir.path()), &["--require-auth"], &env);
    interleave(&[&one, &two], &mut acme, &mut globex, 120);
}

#[test]
fn webhook_deliveries_carry_only_their_tenants_events() {
    let Some(team) = common::team::team("tenants") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = Some(team.db.url.as_str());
    let mut acme = Tenant::make(dir.path(), db, "acme");
    let mut globex = Tenant::make(dir.path(), db, "globex");
    let receiver = common::receiver::Receiver::start();
    let mut env = team.env();
    env.push(("MARCUS_WEBHOOK_ALLOW", "127.0.0.1"));
    let m = Marcus::spawn(
        Some(dir.path()),
        &["--require-auth", "--jobs-interval-ms", "100"],
        &env,
    );
    for t in [&mut acme, &mut globex] {
        let p = call(
            &m,
            t,
            "POST",
            "/api/tools/create_project",
            Some(
                &json!({"project_name": format!("{}-hooks", t.marker), "tasks": [{"name": format!("{}-job", t.marker)}]}),
            ),
        );
        assert_eq!(p.status, 200, "{}", p.text_prefix());
        let project = p.json()["project_id"].as_str().unwrap().to_string();
        t.ids.insert(project.clone());
        let hook = call(
            &m,
            t,
            "POST",
            &format!("/api/projects/{project}/webhooks"),
            Some(&json!({"url": format!("{}/{}", receiver.base, t.name)})),
        );
        assert_eq!(hook.status, 201, "{}", hook.text_prefix());
        let reg = call(
            &m,
            t,
            "POST",
            "/api/tools/register_agent",
            Some(&json!({"agent_id": "agent-1", "name": "a", "role": "dev"})),
        );
        assert_eq!(reg.status, 200, "{}", reg.text_prefix());
        let next = call(
            &m,
            t,
            "POST",
            "/api/tools/request_next_task",
            Some(&json!({"agent_id": "agent-1"})),
        );
        let task = next.json()["task"]["id"].as_str().unwrap().to_string();
        t.ids.insert(task);
    }
    let until = Instant::now() + Duration::from_secs(20);
    while (receiver.got("/acme").is_empty() || receiver.got("/globex").is_empty())
        && Instant::now() < until
    {
        std::thread::sleep(Duration::from_millis(100));
    }
    for (t, o) in [(&acme, &globex), (&globex, &acme)] {
        let got = receiver.got(&format!("/{}", t.name));
        assert!(!got.is_empty(), "{} received no delivery", t.name);
        for d in got {
            assert_clean(&String::from_utf8_lossy(&d.body), t, o, "webhook delivery");
        }
    }
}

#[test]
fn a_disabled_tenant_is_refused_and_its_data_stays() {
    let dir = tempfile::tempdir().unwrap();
    let acme = Tenant::make(dir.path(), None, "acme");
    let root = cli(
        dir.path(),
        None,
        &[
            "token",
            "create",
            "--role",
            "admin",
            "--server-admin",
            "--name",
            "root",
            "--quiet",
        ],
    )
    .trim()
    .to_string();
    let m = Marcus::spawn(Some(dir.path()), &["--require-auth"], &[]);
    let made = call(
        &m,
        &acme,
        "POST",
        "/api/tools/create_project",
        Some(&json!({"project_name": "kept"})),
    );
    assert_eq!(made.status, 200);
    let server_admin = Tenant {
        name: "default".into(),
        token: root,
        marker: String::new(),
        ids: HashSet::new(),
        projects: vec![],
        tasks: vec![],
    };
    // A tenant's admin manages no tenants.
    assert_eq!(
        call(&m, &acme, "GET", "/api/admin/tenants", None).status,
        403
    );
    let off = call(
        &m,
        &server_admin,
        "POST",
        "/api/admin/tenants/acme/disable",
        None,
    );
    assert_eq!(off.status, 200, "{}", off.text_prefix());
    assert_eq!(off.json()["tenant"]["status"], "disabled");
    let refused = call(&m, &acme, "GET", "/api/projects", None);
    assert_eq!(refused.status, 401);
    assert!(
        refused.text_prefix().contains("disabled"),
        "{}",
        refused.text_prefix()
    );
    let on = call(
        &m,
        &server_admin,
        "POST",
        "/api/admin/tenants/acme/enable",
        None,
    );
    assert_eq!(on.status, 200);
    let back = call(&m, &acme, "GET", "/api/projects", None);
    assert_eq!(back.status, 200);
    assert!(
        back.text_prefix().contains("kept"),
        "its data stays: {}",
        back.text_prefix()
    );
    // The listing names every tenant, the default one first.
    let all = call(&m, &server_admin, "GET", "/api/admin/tenants", None).json();
    let names: Vec<&str> = all["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["default", "acme"]);
    // An unknown tenant's token cannot even be made.
    let out = cli_output(
        dir.path(),
        None,
        &[
            "token", "create", "--tenant", "nobody", "--role", "admin", "--name", "x",
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not exist"));
}

#[test]
fn tenant_admins_manage_only_their_own_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let acme = Tenant::make(dir.path(), None, "acme");
    let globex = Tenant::make(dir.path(), None, "globex");
    let m = Marcus::spawn(Some(dir.path()), &["--require-auth"], &[]);
    let listed = call(&m, &acme, "GET", "/api/admin/tokens", None).json();
    let tenants: HashSet<&str> = listed["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["tenant"].as_str().unwrap())
        .collect();
    assert_eq!(tenants, HashSet::from(["acme"]));
    let theirs = call(&m, &globex, "GET", "/api/admin/tokens", None).json()["tokens"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let revoke = call(
        &m,
        &acme,
        "DELETE",
        &format!("/api/admin/tokens/{theirs}"),
        None,
    );
    let missing = call(&m, &acme, "DELETE", "/api/admin/tokens/nosuchtoken1", None);
    assert_eq!(
        revoke.error(),
        missing.error(),
        "another tenant's token is unknown here"
    );
    assert_eq!(call(&m, &globex, "GET", "/api/projects", None).status, 200);
    // Only a server administrator makes tokens of other tenants.
    let cross = call(
        &m,
        &acme,
        "POST",
        "/api/admin/tokens",
        Some(&json!({"name": "x", "role": "admin", "tenant": "globex"})),
    );
    assert_eq!(cross.status, 403);
    let own = call(
        &m,
        &acme,
        "POST",
        "/api/admin/tokens",
        Some(&json!({"name": "agent", "role": "agent", "agent_ids": ["a1"]})),
    );
    assert_eq!(own.status, 201, "{}", own.text_prefix());
    assert_eq!(own.json()["record"]["tenant"], "acme");
    // `/api/features` names the caller's tenant.
    let features = call(&m, &acme, "GET", "/api/features", None).json();
    assert_eq!(features["tenant"], "acme", "{features}");
    assert_eq!(
        features["auth"]["principal"]["tenant"], "acme",
        "{features}"
    );
}

#[test]
fn quotas_refuse_with_403_and_429() {
    let dir = tempfile::tempdir().unwrap();
    let small = Tenant::make(dir.path(), None, "small");
    let other = Tenant::make(dir.path(), None, "default");
    cli(
        dir.path(),
        None,
        &[
            "tenant",
            "quota",
            "small",
            "--projects",
            "1",
            "--tasks",
            "2",
        ],
    );
    let m = Marcus::spawn(Some(dir.path()), &["--require-auth"], &[]);
    let first = call(
        &m,
        &small,
        "POST",
        "/api/tools/create_project",
        Some(&json!({"project_name": "one", "tasks": [{"name": "a"}, {"name": "b"}]})),
    );
    assert_eq!(first.status, 200, "{}", first.text_prefix());
    let project = first.json()["project_id"].as_str().unwrap().to_string();
    let second = call(
        &m,
        &small,
        "POST",
        "/api/tools/create_project",
        Some(&json!({"project_name": "two"})),
    );
    assert_eq!(second.error(), (403, "quota_exceeded".to_string()));
    let more = call(
        &m,
        &small,
        "POST",
        &format!("/api/projects/{project}/tasks"),
        Some(&json!({"tasks": [{"name": "c"}]})),
    );
    assert_eq!(
        more.error(),
        (403, "quota_exceeded".to_string()),
        "{}",
        more.text_prefix()
    );
    // Nothing of the refused writes was stored.
    let tasks = call(
        &m,
        &small,
        "GET",
        &format!("/api/projects/{project}/tasks"),
        None,
    )
    .json();
    assert_eq!(tasks["tasks"].as_array().unwrap().len(), 2);
    // Another tenant is not held to them.
    let free = call(
        &m,
        &other,
        "POST",
        "/api/tools/create_project",
        Some(&json!({"project_name": "free"})),
    );
    assert_eq!(free.status, 200);

    // Requests per minute.
    cli(
        dir.path(),
        None,
        &["tenant", "quota", "small", "--requests-per-minute", "3"],
    );
    std::thread::sleep(Duration::from_secs(6));
    let statuses: Vec<u16> = (0..5)
        .map(|_| call(&m, &small, "GET", "/api/projects", None).status)
        .collect();
    assert!(statuses.contains(&429), "{statuses:?}");
    let limited = call(&m, &small, "GET", "/api/projects", None);
    assert_eq!(limited.error_code(), "tenant_rate_limited");
    assert!(limited.header("retry-after").is_some());
}

#[test]
fn postgres_forces_row_security_and_the_app_role_sees_nothing_without_a_tenant() {
    let Some(team) = common::team::team("tenants") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = Some(team.db.url.as_str());
    let acme = Tenant::make(dir.path(), db, "acme");
    let m = Marcus::spawn(Some(dir.path()), &["--require-auth"], &team.env());
    let made = call(
        &m,
        &acme,
        "POST",
        "/api/tools/create_project",
        Some(&json!({"project_name": "rls", "tasks": [{"name": "t"}]})),
    );
    assert_eq!(made.status, 200, "{}", made.text_prefix());
    let mut client = postgres::Client::connect(&team.db.url, postgres::NoTls).unwrap();
    // Every table of the schema has row-level security, forced, and a policy.
    let tables = client
        .query(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
                    (SELECT COUNT(*) FROM pg_policies p
                     WHERE p.schemaname = n.nspname AND p.tablename = c.relname)
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = current_schema() AND c.relkind = 'r'",
            &[],
        )
        .unwrap();
    assert!(tables.len() >= 2, "documents and marcus_meta at least");
    for row in &tables {
        let (name, on, forced, policies): (String, bool, bool, i64) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        assert!(
            on && forced && policies > 0,
            "{name}: rls {on}, forced {forced}, {policies} policies"
        );
    }
    // The role the app's statements run as owns nothing and bypasses nothing.
    let role = client
        .query_one(
            "SELECT rolsuper, rolbypassrls,
                    (SELECT COUNT(*) FROM pg_tables WHERE tableowner = 'marcus_app')
             FROM pg_roles WHERE rolname = 'marcus_app'",
            &[],
        )
        .unwrap();
    let (sup, bypass, owned): (bool, bool, i64) = (role.get(0), role.get(1), role.get(2));
    assert!(!sup && !bypass && owned == 0);
    let all: i64 = client
        .query_one("SELECT COUNT(*) FROM documents", &[])
        .unwrap()
        .get(0);
    assert!(all > 0, "the board wrote documents");
    let held: Vec<String> = client
        .query("SELECT tenant || '/' || collection FROM documents", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut tx = client.transaction().unwrap();
    tx.batch_execute("SET LOCAL ROLE marcus_app").unwrap();
    let unset: i64 = tx
        .query_one("SELECT COUNT(*) FROM documents", &[])
        .unwrap()
        .get(0);
    assert_eq!(unset, 0, "without a tenant the app role sees no row");
    let meta: i64 = tx
        .query_one("SELECT COUNT(*) FROM marcus_meta", &[])
        .unwrap()
        .get(0);
    assert_eq!(meta, 0, "nor the installation's settings");
    tx.batch_execute("SELECT set_config('marcus.tenant', 'acme', true)")
        .unwrap();
    let tenants: Vec<String> = tx
        .query("SELECT DISTINCT tenant FROM documents", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        tenants,
        ["acme"],
        "a tenant's transaction sees its rows only (of {held:?})"
    );
    let smuggled = tx.execute(
        "INSERT INTO documents (tenant, collection, id, data, version, created_at, updated_at)
         VALUES ('globex', 'notes', 'x', '{}', 1, 0, 0)",
        &[],
    );
    assert!(
        smuggled.is_err(),
        "a row of another tenant cannot be written"
    );
}

/// A board made by the release before tenants: a project with two tasks (one completed by
/// agent `a1`) and the admin token [`V1_TOKEN`], in SQLite and as a PostgreSQL dump.
const V1_FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/schema-1");

/// The admin token stored in the schema-1 fixtures.
fn v1_token() -> String {
    std::fs::read_to_string(format!("{V1_FIXTURE}/admin-token"))
        .unwrap()
        .trim()
        .to_string()
}

/// What the schema-1 board must still show once upgraded, through its old token.
fn assert_upgraded_board(m: &Marcus) {
    let old = Tenant {
        name: "default".into(),
        token: v1_token(),
        marker: String::new(),
        ids: HashSet::new(),
        projects: vec![],
        tasks: vec![],
    };
    let projects = call(m, &old, "GET", "/api/projects", None);
    assert_eq!(
        projects.status,
        200,
        "the old token still works: {}",
        projects.text_prefix()
    );
    let list = projects.json();
    let project = list["projects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "before-tenants")
        .unwrap_or_else(|| panic!("the old board is the default tenant's: {list}"));
    let id = project["id"]
        .as_str()
        .or(project["project_id"].as_str())
        .unwrap();
    let tasks = call(m, &old, "GET", &format!("/api/projects/{id}/tasks"), None).json();
    let statuses: HashSet<String> = tasks["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["status"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        statuses,
        HashSet::from(["done".to_string(), "todo".to_string()])
    );
    assert_eq!(
        call(m, &old, "GET", "/api/features", None).json()["tenant"],
        "default"
    );
}

#[test]
fn a_schema_1_sqlite_board_becomes_the_default_tenant() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        format!("{V1_FIXTURE}/marcus.db"),
        dir.path().join("marcus.db"),
    )
    .unwrap();
    let m = Marcus::spawn(Some(dir.path()), &["--require-auth"], &[]);
    assert_upgraded_board(&m);
    drop(m);
    let conn = rusqlite::Connection::open(dir.path().join("marcus.db")).unwrap();
    let version: String = conn
        .query_row(
            "SELECT value FROM marcus_meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        version,
        marcus_core::store::schema_version::SCHEMA_VERSION.to_string()
    );
    let scopes: Vec<(String, String)> = conn
        .prepare("SELECT DISTINCT tenant, collection FROM documents WHERE collection LIKE 'auth_%'")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(scopes.iter().all(|(t, _)| t == "_server"), "{scopes:?}");
}

#[test]
fn a_schema_1_postgres_board_becomes_the_default_tenant() {
    let Some(team) = common::team::team("tenants") else {
        return;
    };
    let dump = std::fs::read_to_string(format!("{V1_FIXTURE}/postgres.sql")).unwrap();
    let mut client = postgres::Client::connect(&team.db.url, postgres::NoTls).unwrap();
    client.batch_execute(&dump).unwrap();
    drop(client);
    let dir = tempfile::tempdir().unwrap();
    let m = Marcus::spawn(Some(dir.path()), &["--require-auth"], &team.env());
    assert_upgraded_board(&m);
    // And `marcus migrate` carries every tenant to SQLite and back.
    let made = cli(
        dir.path(),
        Some(&team.db.url),
        &["tenant", "create", "acme"],
    );
    assert!(made.contains("acme"));
    let target = dir.path().join("copy.db");
    let out = cli_output(
        dir.path(),
        Some(&team.db.url),
        &[
            "migrate",
            "--from",
            "postgres",
            "--to",
            &format!("sqlite:{}", target.display()),
            "--json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["verified"], true, "{report}");
    let tenants: HashSet<&str> = report["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["tenant"].as_str().unwrap())
        .collect();
    assert!(
        tenants.contains("default") && tenants.contains("_server"),
        "{tenants:?}"
    );
    let copy = tempfile::tempdir().unwrap();
    std::fs::copy(&target, copy.path().join("marcus.db")).unwrap();
    drop(m);
    let listed = cli(copy.path(), None, &["tenant", "list"]);
    assert!(listed.contains("acme"), "{listed}");
    let solo = Marcus::spawn(Some(copy.path()), &["--require-auth"], &[]);
    assert_upgraded_board(&solo);
}

#[test]
fn a_tenants_request_budget_is_shared_by_every_host_of_a_team() {
    let Some(team) = common::team::team("tenants") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = Some(team.db.url.as_str());
    let acme = Tenant::make(dir.path(), db, "acme");
    cli(
        dir.path(),
        db,
        &["tenant", "quota", "acme", "--requests-per-minute", "4"],
    );
    let env = team.env();
    let one = Marcus::spawn(Some(dir.path()), &["--require-auth"], &env);
    let other_dir = tempfile::tempdir().unwrap();
    let two = Marcus::spawn(Some(other_dir.path()), &["--require-auth"], &env);
    // The shared budget counts one-minute windows: start well inside one.
    let into_window = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        % 60_000;
    if into_window > 50_000 {
        std::thread::sleep(Duration::from_millis((60_100 - into_window) as u64));
    }
    // Three requests on each host: six in all, two more than the tenant's four a minute. A
    // budget kept per host would admit all six.
    let statuses: Vec<u16> = (0..6)
        .map(|i| {
            let host = if i % 2 == 0 { &one } else { &two };
            call(host, &acme, "GET", "/api/projects", None).status
        })
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        2,
        "{statuses:?}"
    );
}
