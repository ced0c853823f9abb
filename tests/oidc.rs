//! MCP authorization against a real OpenID Connect provider (panva's `oidc-provider`, from
//! npm, started on loopback by the suite): the protected resource metadata and the 401
//! challenge that point clients to it, provider access tokens verified against its key set
//! and mapped to roles and agent ids, each kind of bad token refused with its status, and
//! the official MCP TypeScript SDK completing the whole flow (discovery, dynamic client
//! registration, PKCE, `resource`) on its own before calling a tool.
//!
//! Needs Node.js and npm; without them the suite is skipped with a message (under CI it
//! fails instead).

mod common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::Marcus;
use common::oidc_provider::{self, Provider};
use serde_json::{Value, json};
use std::process::{Command, Stdio};
use std::time::Duration;

const SUITE: &str = "oidc (MCP authorization with a real provider)";

fn bearer(
    m: &Marcus,
    token: &str,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> common::Answer {
    let auth = format!("Bearer {token}");
    let mut headers = vec![
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
        ("accept", "application/json, text/event-stream"),
    ];
    if body.is_none() {
        headers.truncate(1);
    }
    let bytes = body.map(|b| b.to_string().into_bytes());
    m.request(method, path, &headers, bytes.as_deref())
}

/// The `WWW-Authenticate` challenge of an answer.
fn challenge(a: &common::Answer) -> String {
    a.header("www-authenticate")
        .unwrap_or_else(|| panic!("{} without a challenge: {}", a.status, a.text_prefix()))
}

/// `token` with its header's key id replaced (the signature no longer matters: no key).
fn with_key_id(token: &str, kid: &str) -> String {
    let mut parts = token.split('.');
    let header = parts.next().unwrap();
    let mut header: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    header["kid"] = json!(kid);
    let header = URL_SAFE_NO_PAD.encode(header.to_string());
    format!(
        "{header}.{}.{}",
        parts.next().unwrap(),
        parts.next().unwrap()
    )
}

/// `token` with its claims changed and its signature kept.
fn with_claims(token: &str, change: impl FnOnce(&mut Value)) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    change(&mut claims);
    let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{}.{claims}.{}", parts[0], parts[2])
}

fn start_marcus(issuer: &str) -> Marcus {
    Marcus::start_env(&[], &[("MARCUS_OIDC_ISSUER", issuer)])
}

#[test]
fn provider_tokens_are_verified_mapped_to_roles_and_refused_when_wrong() {
    if !oidc_provider::node_ready(SUITE) {
        return;
    }
    let provider = Provider::start();
    let other = Provider::start();
    let m = start_marcus(&provider.issuer);
    let mcp = format!("{}/mcp", m.url);

    // Where clients learn which provider to ask, public and on both well-known paths.
    for path in [
        "/.well-known/oauth-protected-resource/mcp",
        "/.well-known/oauth-protected-resource",
    ] {
        let meta = m.get(path);
        assert_eq!(meta.status, 200, "{path}: {}", meta.text_prefix());
        let meta = meta.json();
        assert_eq!(meta["resource"], json!(mcp), "{meta}");
        assert_eq!(meta["authorization_servers"], json!([provider.issuer]));
        assert_eq!(
            meta["scopes_supported"],
            json!([
                "marcus:admin",
                "marcus:member",
                "marcus:agent",
                "marcus:viewer"
            ])
        );
    }
    // Configuring a provider asks for credentials, on loopback too; the challenge names
    // the metadata.
    assert_eq!(m.get("/api/features").status, 401);
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "oidc-suite", "version": "1"}}});
    let anonymous = m.request(
        "POST",
        "/mcp",
        &[
            ("content-type", "application/json"),
            ("accept", "application/json, text/event-stream"),
        ],
        Some(init.to_string().as_bytes()),
    );
    assert_eq!(anonymous.status, 401, "{}", anonymous.text_prefix());
    assert!(
        challenge(&anonymous).contains(&format!(
            "resource_metadata=\"{}/.well-known/oauth-protected-resource/mcp\"",
            m.url
        )),
        "{}",
        challenge(&anonymous)
    );

    // An agent's client-credentials token: served on MCP and the API, as its own agent only.
    let agent = provider.token("agent-a1", &mcp, "marcus:agent");
    let initialized = bearer(&m, &agent, "POST", "/mcp", Some(&init));
    assert_eq!(initialized.status, 200, "{}", initialized.text_prefix());
    let me = bearer(&m, &agent, "GET", "/api/features", None).json();
    assert_eq!(me["auth"]["mode"], "required", "{me}");
    assert_eq!(me["auth"]["oidc_issuer"], json!(provider.issuer));
    assert_eq!(me["auth"]["principal"]["verified_by"], "oidc", "{me}");
    assert_eq!(me["auth"]["principal"]["role"], "agent");
    assert_eq!(me["auth"]["principal"]["agent_ids"], json!(["agent-a1"]));
    let register = |id: &str| {
        bearer(
            &m,
            &agent,
            "POST",
            "/api/tools/register_agent",
            Some(&json!({"agent_id": id, "name": id, "role": "dev"})),
        )
    };
    assert_eq!(register("agent-a1").status, 200);
    let other_agent = register("someone-else");
    assert_eq!(other_agent.error(), (403, "forbidden".into()));

    // A viewer reads; a write is refused with a step-up challenge.
    let viewer = provider.token("viewer-bot", &mcp, "marcus:viewer");
    assert_eq!(
        bearer(&m, &viewer, "GET", "/api/projects", None).status,
        200
    );
    let write = bearer(
        &m,
        &viewer,
        "POST",
        "/api/projects",
        Some(&json!({"project_name": "p"})),
    );
    assert_eq!(write.error(), (403, "forbidden".into()));
    assert!(
        challenge(&write).contains("error=\"insufficient_scope\""),
        "{}",
        challenge(&write)
    );

    // A valid token that grants no role here: 403 insufficient_scope, naming the scopes.
    let none = provider.token("no-role", &mcp, "");
    let refused = bearer(&m, &none, "GET", "/api/projects", None);
    assert_eq!(refused.error(), (403, "insufficient_scope".into()));
    assert!(
        challenge(&refused).contains("scope=\"marcus:admin"),
        "{}",
        challenge(&refused)
    );

    let invalid = |token: &str, what: &str| {
        let a = bearer(&m, token, "GET", "/api/projects", None);
        assert_eq!(a.error(), (401, "unauthorized".into()), "{what}");
        assert!(
            challenge(&a).contains("error=\"invalid_token\""),
            "{what}: {}",
            challenge(&a)
        );
        a.json()["error"]["message"].as_str().unwrap().to_string()
    };
    // Issued for another resource.
    let elsewhere = provider.token("agent-a1", "http://127.0.0.1:9/mcp", "marcus:agent");
    assert!(invalid(&elsewhere, "wrong audience").contains("audience"));
    // Issued by a provider this server does not trust (its keys are not the trusted one's).
    let foreign = other.token("agent-a1", &mcp, "marcus:agent");
    assert!(invalid(&foreign, "wrong issuer").contains("key"));
    // A key the provider does not publish.
    assert!(invalid(&with_key_id(&agent, "made-up"), "unknown key").contains("made-up"));
    // Claims changed after signing: the signature fails.
    let forged = with_claims(&agent, |c| c["scope"] = json!("marcus:admin"));
    assert!(invalid(&forged, "forged claims").contains("signature"));
    // Not a signed token at all.
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
        agent.split('.').nth(1).unwrap()
    );
    invalid(&unsigned, "alg none");

    // Past its expiry (2 s tokens, 5 s of tolerated clock difference).
    let short = provider.token("short-lived", &mcp, "marcus:agent");
    assert_eq!(bearer(&m, &short, "GET", "/api/projects", None).status, 200);
    std::thread::sleep(Duration::from_secs(8));
    assert!(invalid(&short, "expired").contains("expired"));
}

#[test]
fn marcus_tokens_still_work_beside_the_provider() {
    if !oidc_provider::node_ready(SUITE) {
        return;
    }
    let provider = Provider::start();
    let dir = tempfile::tempdir().unwrap();
    let made = Command::new(env!("CARGO_BIN_EXE_marcus"))
        .args([
            "token",
            "create",
            "--role",
            "viewer",
            "--name",
            "ci",
            "--quiet",
            "--data-dir",
        ])
        .arg(dir.path())
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert!(made.status.success());
    let token = String::from_utf8(made.stdout).unwrap().trim().to_string();
    let m = Marcus::spawn(
        Some(dir.path()),
        &[],
        &[("MARCUS_OIDC_ISSUER", provider.issuer.as_str())],
    );
    assert_eq!(bearer(&m, &token, "GET", "/api/projects", None).status, 200);
    let unknown = bearer(&m, "mcs_notarealtokenatall", "GET", "/api/projects", None);
    assert_eq!(unknown.status, 401);
    // Without a provider the metadata does not exist.
    drop(m);
    let plain = Marcus::start(&[]);
    assert_eq!(
        plain
            .get("/.well-known/oauth-protected-resource/mcp")
            .error(),
        (404, "not_found".into())
    );
}

#[test]
fn the_mcp_typescript_sdk_completes_the_authorization_flow_and_calls_a_tool() {
    if !oidc_provider::node_ready(SUITE) {
        return;
    }
    let provider = Provider::start();
    let m = start_marcus(&provider.issuer);
    let mcp = format!("{}/mcp", m.url);
    let out = Command::new("node")
        .arg("mcp_sdk_flow.mjs")
        .arg(&mcp)
        .current_dir(oidc_provider::fixture())
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    let line = String::from_utf8_lossy(&out.stdout);
    let result: Value = serde_json::from_str(line.trim())
        .unwrap_or_else(|e| panic!("the flow printed {line:?}: {e}"));
    assert_eq!(result["ok"], true, "{result}\n{}", m.stderr_text());
    assert!(out.status.success());
    assert_eq!(result["token_audience"], json!(mcp), "{result}");
    assert!(result["tools"].as_u64().unwrap() >= 20, "{result}");
    assert_eq!(result["called"], "ping", "{result}");
    assert!(
        result["registered_client_id"]
            .as_str()
            .is_some_and(|c| !c.is_empty()),
        "{result}"
    );
}
