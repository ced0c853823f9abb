//! Identity and access on the real binary: tokens made, listed and revoked with `marcus
//! token` on a data directory, a server that requires credentials answering each with its
//! principal's rights (401 without or with a bad token, 403 for a role that lacks the access,
//! an agent token acting only as its agents), the first admin token an exposed server
//! prints, and every tool answering exactly the roles its access names.

mod common;

use common::Marcus;
use marcus_identity::access::{Access, roles_with};
use marcus_identity::principal::Role;
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;

/// Runs `marcus token ARGS` on `dir`; answers stdout, panicking with stderr on failure.
fn token_cli(dir: &Path, args: &[&str]) -> String {
    let out = token_cli_output(dir, args);
    assert!(
        out.status.success(),
        "marcus token {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn token_cli_output(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_marcus"))
        .arg("token")
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .env_remove("DATABASE_URL")
        .env_remove("MARCUS_HOME")
        .output()
        .unwrap()
}

/// A new token of `role` (bound to `agents`), printed alone.
fn make(dir: &Path, name: &str, role: &str, agents: &[&str]) -> String {
    let mut args = vec!["create", "--role", role, "--name", name, "--quiet"];
    for a in agents {
        args.extend(["--agent", a]);
    }
    token_cli(dir, &args).trim().to_string()
}

fn with(m: &Marcus, token: &str, method: &str, path: &str, body: Option<&Value>) -> common::Answer {
    let auth = format!("Bearer {token}");
    let mut headers = vec![("authorization", auth.as_str())];
    if body.is_some() {
        headers.push(("content-type", "application/json"));
    }
    let bytes = body.map(|b| b.to_string().into_bytes());
    m.request(method, path, &headers, bytes.as_deref())
}

#[test]
fn tokens_are_made_listed_and_revoked_and_never_stored() {
    let dir = tempfile::tempdir().unwrap();
    let printed = token_cli(
        dir.path(),
        &[
            "create",
            "--role",
            "agent",
            "--agent",
            "a1",
            "--name",
            "ci",
            "--expires",
            "7d",
        ],
    );
    let token = printed
        .split_whitespace()
        .find(|w| w.starts_with("mcs_"))
        .unwrap_or_else(|| panic!("no token in {printed}"))
        .to_string();
    assert_eq!(token.len(), 40, "{token}");
    assert!(printed.contains("shown only now"), "{printed}");
    let listed = token_cli(dir.path(), &["list"]);
    assert!(
        listed.contains("ci") && listed.contains("agent") && listed.contains("a1"),
        "{listed}"
    );
    assert!(
        !listed.contains(&token),
        "list never shows a token: {listed}"
    );
    // The database holds a digest, never the token.
    let db = std::fs::read(dir.path().join("marcus.db")).unwrap();
    let wal = std::fs::read(dir.path().join("marcus.db-wal")).unwrap_or_default();
    for bytes in [&db, &wal] {
        assert!(
            !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
            "the token itself is stored"
        );
    }
    // Refusals are readable and exit non-zero.
    for (args, says) in [
        (vec!["create", "--role", "agent", "--name", "x"], "--agent"),
        (
            vec!["create", "--role", "viewer", "--name", "x", "--agent", "a"],
            "agent tokens only",
        ),
        (
            vec!["create", "--role", "root", "--name", "x"],
            "unknown role",
        ),
        (
            vec![
                "create",
                "--role",
                "viewer",
                "--name",
                "x",
                "--expires",
                "400d",
            ],
            "at most 365",
        ),
        (vec!["revoke", "nothing"], "no token"),
    ] {
        let out = token_cli_output(dir.path(), &args);
        assert!(!out.status.success(), "{args:?} succeeded");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
    assert!(token_cli(dir.path(), &["revoke", "ci"]).contains("revoked"));
    assert!(token_cli(dir.path(), &["list"]).contains("revoked"));
}

#[test]
fn a_server_that_requires_credentials_answers_each_role_its_rights() {
    let dir = tempfile::tempdir().unwrap();
    let admin = make(dir.path(), "ops", "admin", &[]);
    let member = make(dir.path(), "lead", "member", &[]);
    let agent = make(dir.path(), "bot", "agent", &["a1"]);
    let viewer = make(dir.path(), "watch", "viewer", &[]);
    let revoked = make(dir.path(), "old", "member", &[]);
    token_cli(dir.path(), &["revoke", "old"]);
    let m = Marcus::spawn(Some(dir.path()), &["--require-auth"], &[]);
    assert!(
        !m.stderr_text().contains("No admin token existed"),
        "an admin token exists, none is made: {}",
        m.stderr_text()
    );

    // Public: probes and the dashboard page; everything else needs credentials.
    assert_eq!(m.get("/healthz").status, 200);
    assert_eq!(m.get("/").status, 200);
    let anonymous = m.get("/api/projects");
    assert_eq!(
        anonymous.error(),
        (401, "unauthorized".into()),
        "{}",
        anonymous.text_prefix()
    );
    assert!(
        anonymous
            .header("www-authenticate")
            .is_some_and(|v| v.starts_with("Bearer"))
    );
    assert_eq!(m.get("/metrics").status, 401);
    assert_eq!(m.get("/api/events/stream").status, 401);

    // Bad credentials are refused whatever they ask for, with the reason.
    let made_up = format!("mcs_{}", "A".repeat(36));
    for (token, says) in [
        ("not-a-token", "not a Marcus token"),
        (made_up.as_str(), "checksum"),
        (revoked.as_str(), "revoked"),
    ] {
        let refused = with(&m, token, "GET", "/healthz", None);
        assert_eq!(refused.error(), (401, "unauthorized".into()), "{token}");
        assert!(
            refused.json()["error"]["message"]
                .as_str()
                .unwrap()
                .contains(says),
            "{}",
            refused.text_prefix()
        );
    }
    let basic = m.request(
        "GET",
        "/api/projects",
        &[("authorization", "Basic YTpi")],
        None,
    );
    assert_eq!(basic.status, 401);

    // Who am I: /api/features names the principal and the mode.
    let me = with(&m, &agent, "GET", "/api/features", None).json();
    assert_eq!(me["auth"]["mode"], "required", "{me}");
    assert_eq!(me["auth"]["principal"]["role"], "agent");
    assert_eq!(me["auth"]["principal"]["agent_ids"], json!(["a1"]));

    // The member shapes the board; the viewer reads it; neither may touch raw storage.
    let created = with(
        &m,
        &member,
        "POST",
        "/api/projects",
        Some(&json!({"project_name": "p", "tasks": [{"name": "t1"}, {"name": "t2"}]})),
    );
    assert_eq!(created.status, 201, "{}", created.text_prefix());
    let project = created.json()["project_id"].as_str().unwrap().to_string();
    assert_eq!(
        with(
            &m,
            &viewer,
            "GET",
            &format!("/api/projects/{project}"),
            None
        )
        .status,
        200
    );
    let refused = with(
        &m,
        &viewer,
        "POST",
        "/api/projects",
        Some(&json!({"project_name": "q"})),
    );
    assert_eq!(refused.error(), (403, "forbidden".into()));
    assert!(
        refused.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("viewer")
    );
    for token in [&member, &agent, &viewer] {
        assert_eq!(with(&m, token, "GET", "/api/storage", None).status, 403);
        assert_eq!(
            with(&m, token, "PUT", "/api/storage/notes/n", Some(&json!({}))).status,
            403
        );
    }
    assert_eq!(with(&m, &admin, "GET", "/api/storage", None).status, 200);
    assert_eq!(with(&m, &viewer, "GET", "/metrics", None).status, 200);

    // The agent token acts as a1 only.
    let register = |id: &str| {
        with(
            &m,
            &agent,
            "POST",
            "/api/agents",
            Some(&json!({"agent_id": id, "name": id, "project_id": project})),
        )
    };
    assert!(register("a1").status < 300);
    let other = register("a2");
    assert_eq!(
        other.error(),
        (403, "forbidden".into()),
        "{}",
        other.text_prefix()
    );
    assert!(
        with(
            &m,
            &member,
            "POST",
            "/api/agents",
            Some(&json!({"agent_id": "a2", "name": "a2", "project_id": project}))
        )
        .status
            < 300
    );
    assert_eq!(
        with(&m, &agent, "POST", "/api/agents/a2/next-task", None).status,
        403
    );
    let claimed = with(&m, &agent, "POST", "/api/agents/a1/next-task", None);
    assert_eq!(claimed.status, 200, "{}", claimed.text_prefix());
    let task = claimed.json()["task"]["id"].as_str().unwrap().to_string();
    // a2 (claimed by the member acting for it) cannot be completed by a1's token.
    let a2_task = with(&m, &member, "POST", "/api/agents/a2/next-task", None).json()["task"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let completion = |agent_id: &str, task_id: &str| {
        with(
            &m,
            &agent,
            "POST",
            "/api/tools/report_task_progress",
            Some(
                &json!({"agent_id": agent_id, "task_id": task_id, "status": "completed", "progress": 100}),
            ),
        )
    };
    assert_eq!(completion("a2", &a2_task).status, 403);
    assert_eq!(completion("a1", &task).status, 200);

    // Over MCP the same rules hold: the session opens, another agent's claim is refused.
    let init = with(
        &m,
        &agent,
        "POST",
        "/mcp",
        Some(&json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}})),
    );
    assert_eq!(init.status, 200, "{}", init.text_prefix());
    let session = init.header("mcp-session-id").unwrap();
    let call = |token: &str, tool: &str, args: Value| {
        let auth = format!("Bearer {token}");
        m.request("POST", "/mcp", &[("authorization", &auth), ("content-type", "application/json"), ("mcp-session-id", &session)],
            Some(json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": tool, "arguments": args}}).to_string().as_bytes()))
    };
    let refused = call(&agent, "request_next_task", json!({"agent_id": "a2"})).json();
    assert_eq!(refused["result"]["isError"], true, "{refused}");
    assert!(
        refused["result"]["structuredContent"]
            .to_string()
            .contains("forbidden"),
        "{refused}"
    );
    let mine = call(&agent, "get_agent_status", json!({"agent_id": "a1"})).json();
    assert_eq!(mine["result"]["isError"], false, "{mine}");
    let anonymous = m.request(
        "POST",
        "/mcp",
        &[
            ("content-type", "application/json"),
            ("mcp-session-id", &session),
        ],
        Some(
            json!({"jsonrpc": "2.0", "id": 3, "method": "tools/list"})
                .to_string()
                .as_bytes(),
        ),
    );
    assert_eq!(anonymous.status, 401);

    // Uses are recorded (in the background, after the answers): the used tokens no longer
    // say "never", the unused one does.
    let unused = make(dir.path(), "spare", "viewer", &[]);
    assert!(unused.starts_with("mcs_"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let listed = token_cli(dir.path(), &["list"]);
        let line = |name: &str| {
            listed
                .lines()
                .find(|l| l.split_whitespace().nth(1) == Some(name))
                .unwrap_or_else(|| panic!("{name} not listed: {listed}"))
                .to_string()
        };
        assert!(line("spare").contains("never"), "{listed}");
        if !line("bot").contains("never") && !line("watch").contains("never") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no use recorded: {listed}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn a_server_that_requires_credentials_and_has_no_admin_prints_one_once() {
    let dir = tempfile::tempdir().unwrap();
    let m = Marcus::spawn(Some(dir.path()), &["--require-auth"], &[]);
    let said = m.stderr_text();
    let token = said
        .split_whitespace()
        .find(|w| w.starts_with("mcs_"))
        .unwrap_or_else(|| panic!("no admin token printed: {said}"))
        .to_string();
    assert_eq!(with(&m, &token, "GET", "/api/storage", None).status, 200);
    assert_eq!(
        with(&m, &token, "GET", "/api/features", None).json()["auth"]["principal"]["role"],
        "admin"
    );
    drop(m);
    // The next start finds it and prints nothing.
    let again = Marcus::spawn(Some(dir.path()), &["--require-auth"], &[]);
    assert!(
        !again.stderr_text().contains("mcs_"),
        "{}",
        again.stderr_text()
    );
    assert_eq!(
        with(&again, &token, "GET", "/api/storage", None).status,
        200
    );
}

#[test]
fn a_loopback_server_without_auth_is_the_local_admin_but_still_checks_a_token_sent() {
    let m = Marcus::start(&[]);
    let features = m.get("/api/features").json();
    assert_eq!(features["auth"]["mode"], "local");
    assert_eq!(features["auth"]["insecure"], false);
    assert_eq!(features["auth"]["principal"]["verified_by"], "local");
    assert_eq!(m.get("/api/storage").status, 200);
    // Nothing about authentication was written.
    let raw = m.get("/api/storage").json();
    assert!(!raw.to_string().contains("auth_"), "{raw}");
    let viewer = make(&m.data_dir, "v", "viewer", &[]);
    assert_eq!(
        with(
            &m,
            &viewer,
            "POST",
            "/api/projects",
            Some(&json!({"project_name": "p"}))
        )
        .status,
        403
    );
    assert_eq!(
        with(&m, "mcs_bad", "GET", "/api/projects", None).status,
        401
    );
}

/// A server requiring credentials, with a token of each role (the agent's bound to `a1`),
/// most powerful first; the data directory lives as long as the first value.
fn one_token_per_role() -> (tempfile::TempDir, Vec<(Role, String)>, Marcus) {
    let dir = tempfile::tempdir().unwrap();
    let tokens: Vec<(Role, String)> = Role::ALL
        .into_iter()
        .map(|role| {
            let agents: &[&str] = if role == Role::Agent { &["a1"] } else { &[] };
            (role, make(dir.path(), role.as_str(), role.as_str(), agents))
        })
        .collect();
    let m = Marcus::spawn(Some(dir.path()), &["--require-auth"], &[]);
    (dir, tokens, m)
}

#[test]
fn every_tool_answers_exactly_the_roles_its_access_names() {
    let (_dir, tokens, m) = one_token_per_role();
    let admin = &tokens[0].1;
    let project = with(
        &m,
        admin,
        "POST",
        "/api/projects",
        Some(&json!({"project_name": "p", "tasks": [{"name": "t"}]})),
    )
    .json()["project_id"]
        .as_str()
        .unwrap()
        .to_string();
    let tools = with(&m, admin, "GET", "/api/tools", None).json();
    let tools = tools["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("{tools}"));
    assert_eq!(tools.len(), 21);
    let mut checked = 0;
    for tool in tools {
        let name = tool["name"].as_str().unwrap();
        let access = match tool["access"].as_str() {
            Some("read") => Access::Read,
            Some("agent") => Access::ActAsAgent,
            Some("board") => Access::Board,
            Some("admin") => Access::Admin,
            other => panic!("{name} states no access: {other:?}"),
        };
        for (role, token) in &tokens {
            // Arguments that name the agent token's own agent and the project; a call may
            // still fail on its arguments (400/404/409), never on access when allowed.
            let args = json!({"agent_id": "a1", "project_id": project, "name": "a1"});
            let answer = with(
                &m,
                token,
                "POST",
                &format!("/api/tools/{name}"),
                Some(&args),
            );
            let allowed = roles_with(access).contains(role);
            assert_eq!(
                answer.status == 403,
                !allowed,
                "{name} as {}: {} {}",
                role.as_str(),
                answer.status,
                answer.text_prefix()
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 21 * 4);
}

#[test]
fn every_documented_operation_answers_exactly_the_roles_its_access_names() {
    let (_dir, tokens, m) = one_token_per_role();
    let doc = m.get("/api/openapi.json");
    assert_eq!(doc.status, 200, "the document is public");
    let doc = doc.json();
    let mut checked = 0;
    for (path, operations) in doc["paths"].as_object().unwrap() {
        // The push streams stay open; their access is checked in the role test above.
        if path == "/api/events/stream" || path == "/api/ws" {
            continue;
        }
        for (method, op) in operations.as_object().unwrap() {
            let method = method.to_ascii_uppercase();
            let access = op["x-marcus-access"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} states no access"));
            let concrete = path
                .replace("{agent_id}", "a1")
                .split('/')
                .map(|s| if s.starts_with('{') { "x1" } else { s })
                .collect::<Vec<_>>()
                .join("/");
            let body = op.get("requestBody").map(|b| {
                if b["content"].get("application/json").is_some() {
                    ("application/json", b"{}".to_vec())
                } else {
                    ("application/octet-stream", b"x".to_vec())
                }
            });
            let send = |token: Option<&str>| {
                let auth = token.map(|t| format!("Bearer {t}"));
                let mut headers = vec![];
                if let Some(a) = &auth {
                    headers.push(("authorization", a.as_str()));
                }
                if let Some((media, _)) = &body {
                    headers.push(("content-type", *media));
                }
                m.request(
                    &method,
                    &concrete,
                    &headers,
                    body.as_ref().map(|(_, b)| b.as_slice()),
                )
            };
            let anonymous = send(None);
            if access == "public" {
                assert!(
                    !matches!(anonymous.status, 401 | 403),
                    "{method} {concrete}: {}",
                    anonymous.status
                );
                continue;
            }
            assert_eq!(
                anonymous.status,
                401,
                "{method} {concrete} without credentials: {}",
                anonymous.text_prefix()
            );
            let needed = match access {
                "read" => Access::Read,
                "agent" => Access::ActAsAgent,
                "board" => Access::Board,
                "admin" => Access::Admin,
                "server-admin" => Access::ServerAdmin,
                other => panic!("{method} {path}: unknown access {other}"),
            };
            for (role, token) in &tokens {
                let answer = send(Some(token));
                let refused = answer.status == 403 && answer.error_code() == "forbidden";
                // These tokens administer no installation: server administration is
                // refused to each of them, admins included.
                let allowed = roles_with(needed).contains(role) && needed != Access::ServerAdmin;
                assert_eq!(
                    refused,
                    !allowed,
                    "{method} {concrete} ({access}) as {}: {} {}",
                    role.as_str(),
                    answer.status,
                    answer.text_prefix()
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "{checked} operation × role checks");
}

#[test]
fn an_admin_makes_lists_and_revokes_tokens_over_http_and_no_one_else_may() {
    let (_dir, tokens, m) = one_token_per_role();
    let admin = &tokens[0].1;
    let made = with(
        &m,
        admin,
        "POST",
        "/api/admin/tokens",
        Some(&json!({"name": "ci", "role": "agent", "agent_ids": ["a7"], "expires": "2d"})),
    );
    assert_eq!(made.status, 201, "{}", made.text_prefix());
    let made = made.json();
    let token = made["token"].as_str().unwrap().to_string();
    let id = made["record"]["id"].as_str().unwrap().to_string();
    assert!(token.starts_with("mcs_") && token.contains(&id), "{made}");
    assert_eq!(made["record"]["state"], "active");
    assert!(made["record"].get("digest").is_none(), "{made}");

    // The new token works, as its agent only.
    let me = with(&m, &token, "GET", "/api/features", None).json();
    assert_eq!(me["auth"]["principal"]["agent_ids"], json!(["a7"]));

    // Listed without the token or its digest.
    let listed = with(&m, admin, "GET", "/api/admin/tokens", None);
    assert_eq!(listed.status, 200);
    let text = String::from_utf8_lossy(&listed.body).to_string();
    assert!(!text.contains(&token) && !text.contains("digest"), "{text}");
    assert!(listed.json()["tokens"].as_array().unwrap().len() >= 5);

    // Bad requests are the caller's mistakes.
    for bad in [
        json!({"name": "x", "role": "agent"}),
        json!({"name": "x", "role": "owner"}),
        json!({"name": "x", "role": "viewer", "agent_ids": ["a1"]}),
        json!({"name": "x", "role": "viewer", "expires": "400d"}),
        json!({"name": "x", "role": "viewer", "secret": "y"}),
    ] {
        let answer = with(&m, admin, "POST", "/api/admin/tokens", Some(&bad));
        assert_eq!(answer.error(), (400, "bad_request".into()), "{bad}");
    }
    assert_eq!(
        with(&m, admin, "DELETE", "/api/admin/tokens/nosuchtoken1", None).error(),
        (404, "not_found".into())
    );

    // No other role may use the API, nor can a token revoke others through it.
    for (role, other) in &tokens[1..] {
        for (method, path) in [
            ("GET", "/api/admin/tokens".to_string()),
            ("POST", "/api/admin/tokens".to_string()),
            ("DELETE", format!("/api/admin/tokens/{id}")),
        ] {
            let body = (method == "POST").then(|| json!({"name": "x", "role": "admin"}));
            let answer = with(&m, other, method, &path, body.as_ref());
            assert_eq!(
                answer.error(),
                (403, "forbidden".into()),
                "{method} {path} as {}",
                role.as_str()
            );
        }
    }
    assert_eq!(m.request("GET", "/api/admin/tokens", &[], None).status, 401);

    // Revoked: refused at once.
    let revoked = with(
        &m,
        admin,
        "DELETE",
        &format!("/api/admin/tokens/{id}"),
        None,
    );
    assert_eq!(revoked.status, 200, "{}", revoked.text_prefix());
    assert_eq!(revoked.json()["record"]["state"], "revoked");
    assert_eq!(with(&m, &token, "GET", "/api/features", None).status, 401);
}
