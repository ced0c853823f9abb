//! People signing in to Marcus through their organisation's OpenID Connect provider, against
//! a real provider (panva's `oidc-provider`, from npm, started on loopback): headless
//! Chromium fills the provider's login form and lands on the dashboard with the role the
//! person's groups grant; every kind of bad answer is refused (state, nonce, a code issued
//! to another client, an issuer another tenant bound, a person whose groups grant nothing,
//! the provider's own refusal); sessions are `HttpOnly`, rotated, bound to their tenant,
//! guarded by a CSRF token, ended by signing out, and accepted by every host of a team.
//!
//! Needs Node.js and npm (and Chromium for the browser test, PostgreSQL and Redis for the
//! team test); without them those tests are skipped with a message (under CI they fail).

mod common;

use common::Marcus;
use common::browserless::{Browserless, Hop, origin};
use common::oidc_provider::{self, Provider};
use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};

const SUITE: &str = "sso (single sign-on with a real provider)";
const CHROMIUM: &str = "/usr/bin/chromium";
const ROLE_MAP: &str = "acme:admin=admin,acme:dev=member";

/// A tenant bound to a provider through `marcus sso oidc set`, with a client registered
/// there that sends people back to every host in `hosts`.
fn bind(
    dir: &Path,
    db: Option<&str>,
    tenant: &str,
    provider: &Provider,
    hosts: &[&Marcus],
) -> String {
    let callbacks: Vec<String> = hosts
        .iter()
        .map(|m| format!("{}/auth/oidc/callback", m.url))
        .collect();
    let landing: Vec<String> = hosts.iter().map(|m| format!("{}/", m.url)).collect();
    let (client_id, secret) = provider.register_client(&callbacks, &landing);
    let out = common::cli::ok(
        dir,
        db,
        &[
            "sso",
            "oidc",
            "set",
            "--tenant",
            tenant,
            "--issuer",
            &provider.issuer,
            "--client-id",
            &client_id,
            "--client-secret",
            &secret,
            "--role-claim",
            "groups",
            "--role-map",
            ROLE_MAP,
        ],
    );
    assert!(out.contains(&provider.issuer), "{out}");
    assert!(!out.contains(&secret), "the secret is never printed: {out}");
    client_id
}

/// One server requiring credentials, with tenant `acme` bound to a provider.
struct Site {
    dir: tempfile::TempDir,
    m: Marcus,
    provider: Provider,
    client_id: String,
}

impl Site {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        common::cli::ok(dir.path(), None, &["tenant", "create", "acme"]);
        // Logging at info, so the test sees what a sign-in writes to the log.
        let m = Marcus::spawn(
            Some(dir.path()),
            &["--require-auth"],
            &[("RUST_LOG", "info")],
        );
        let provider = Provider::start();
        let client_id = bind(dir.path(), None, "acme", &provider, &[&m]);
        Self {
            dir,
            m,
            provider,
            client_id,
        }
    }

    fn login_url(&self, tenant: &str) -> String {
        format!("{}/auth/oidc/login?tenant={tenant}", self.m.url)
    }
}

/// Walks a sign-in from `start` (a Marcus login URL) through the provider's login form as
/// `user`, stopping before the answer reaches `marcus` (answers that callback URL). `tweak`
/// may change the authorization request on its way to the provider. `Err` with the hop
/// where the walk ended otherwise (the provider kept the form: a wrong password).
fn to_callback(
    b: &mut Browserless,
    marcus: &str,
    start: &str,
    user: &str,
    password: &str,
    tweak: impl FnOnce(String) -> String,
) -> Result<String, Hop> {
    let first = b.get(start);
    assert_eq!(first.status, 302, "{start}: {}", first.body);
    let mut next = tweak(first.location.expect("a redirect to the provider"));
    let mut signed = false;
    for _ in 0..12 {
        if next.starts_with(marcus) {
            return Ok(next);
        }
        let hop = b.get(&next);
        match hop.status {
            302 | 303 => next = hop.location.clone().unwrap(),
            200 if !signed && hop.body.contains("name=\"password\"") => {
                let action = hop
                    .body
                    .split("action=\"")
                    .nth(1)
                    .and_then(|r| r.split('"').next())
                    .expect("the form's action")
                    .replace("&amp;", "&");
                let answer = b.post_form(
                    &format!("{}{action}", origin(&next)),
                    &[("username", user), ("password", password)],
                );
                signed = true;
                match answer.status {
                    302 | 303 => next = answer.location.clone().unwrap(),
                    _ => return Err(answer),
                }
            }
            _ => return Err(hop),
        }
    }
    panic!("the sign-in went round in circles at {next}");
}

/// Sets query parameter `name` of `url` to `value` (replaced, or added).
fn with_param(url: &str, name: &str, value: &str) -> String {
    let (base, query) = url.split_once('?').unwrap();
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .filter(|(k, _)| k != name)
        .collect();
    pairs.push((name.to_string(), value.to_string()));
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (k, v) in &pairs {
        out.append_pair(k, v);
    }
    format!("{base}?{}", out.finish())
}

/// A request to Marcus with `b`'s cookies (and the CSRF token when given).
fn call(
    b: &mut Browserless,
    m: &Marcus,
    method: &str,
    path: &str,
    body: Option<&Value>,
    csrf: Option<&str>,
) -> (u16, Value) {
    let mut headers = vec![("accept", "application/json")];
    if body.is_some() {
        headers.push(("content-type", "application/json"));
    }
    if let Some(token) = csrf {
        headers.push(("x-csrf-token", token));
    }
    let url = format!("{}{path}", m.url);
    let hop = match body {
        None => b.send(method, &url, None, &headers),
        Some(body) => send_json(b, method, &url, body, &headers),
    };
    (
        hop.status,
        serde_json::from_str(&hop.body).unwrap_or(Value::Null),
    )
}

/// A JSON request with the jar's cookies for `url`.
fn send_json(
    b: &mut Browserless,
    method: &str,
    url: &str,
    body: &Value,
    headers: &[(&str, &str)],
) -> Hop {
    let cookie = b
        .cookie(url, "marcus_session")
        .map(|s| format!("marcus_session={s}"))
        .unwrap_or_default();
    let agent = ureq::AgentBuilder::new().redirects(0).build();
    let mut request = agent.request(method, url).set("cookie", &cookie);
    for (k, v) in headers {
        request = request.set(k, v);
    }
    let response = match request.send_string(&body.to_string()) {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {url}: {e}"),
    };
    Hop {
        status: response.status(),
        location: None,
        set_cookies: Vec::new(),
        body: response.into_string().unwrap_or_default(),
    }
}

/// The signed-in session `b` holds at `m` (`signed_in` false when none).
fn session(b: &mut Browserless, m: &Marcus) -> Value {
    let (status, body) = call(b, m, "GET", "/auth/session", None, None);
    assert_eq!(status, 200, "{body}");
    body
}

/// Signs `user` in to `tenant` completely; answers the jar holding the session.
fn signed_in(site: &Site, tenant: &str, user: &str, password: &str) -> Browserless {
    let mut b = Browserless::new();
    let callback = to_callback(
        &mut b,
        &site.m.url,
        &site.login_url(tenant),
        user,
        password,
        |u| u,
    )
    .unwrap_or_else(|hop| panic!("{user} could not sign in: {hop:?}"));
    let back = b.get(&callback);
    assert_eq!(back.status, 302, "{}", back.body);
    b
}

#[test]
fn a_sign_in_makes_a_session_with_the_role_the_groups_grant() {
    if !oidc_provider::node_ready(SUITE) {
        return;
    }
    let site = Site::start();
    let m = &site.m;

    // Before signing in, the board is closed and the session route says so.
    let mut b = Browserless::new();
    assert_eq!(session(&mut b, m)["signed_in"], json!(false));
    assert_eq!(call(&mut b, m, "GET", "/api/projects", None, None).0, 401);

    let start = format!("{}&return_to=/%23project%3Dp1", site.login_url("acme"));
    let callback = to_callback(&mut b, &m.url, &start, "alice", "wonderland", |u| {
        // The request carries PKCE (S256), a state and a nonce.
        for part in [
            "code_challenge_method=S256",
            "code_challenge=",
            "state=",
            "nonce=",
        ] {
            assert!(u.contains(part), "{part} missing from {u}");
        }
        u
    })
    .unwrap();
    let login_cookie = b
        .cookie(&m.url, "marcus_login")
        .expect("the sign-in cookie");
    // The provider answers with the very state this browser's sign-in cookie holds.
    let state = form_urlencoded::parse(callback.split_once('?').unwrap().1.as_bytes())
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned());
    assert_eq!(state.as_deref(), Some(login_cookie.as_str()), "{callback}");
    let back = b.get(&callback);
    assert_eq!(back.status, 302, "{}", back.body);
    assert_eq!(
        back.location.as_deref(),
        Some(&*format!("{}/#project=p1", m.url))
    );
    let cookie = back.set_cookie("marcus_session").expect("a session cookie");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=28800"] {
        assert!(cookie.contains(attribute), "{attribute} missing: {cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "plain http has no Secure cookies: {cookie}"
    );
    assert!(
        b.cookie(&m.url, "marcus_login").is_none(),
        "the sign-in cookie is removed"
    );

    let me = session(&mut b, m);
    assert_eq!(me["signed_in"], json!(true), "{me}");
    assert_eq!(me["user"], json!("alice@example.test"));
    assert_eq!(
        me["role"],
        json!("admin"),
        "acme:admin is mapped to admin: {me}"
    );
    assert_eq!(me["tenant"], json!("acme"));
    let csrf = me["csrf_token"].as_str().unwrap().to_string();

    // The session reaches the board; a state-changing request needs the CSRF token.
    assert_eq!(call(&mut b, m, "GET", "/api/projects", None, None).0, 200);
    let project = json!({"project_name": "Single sign-on"});
    let (status, body) = call(&mut b, m, "POST", "/api/projects", Some(&project), None);
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (403, json!("csrf_failed")),
        "{body}"
    );
    let (status, body) = call(
        &mut b,
        m,
        "POST",
        "/api/projects",
        Some(&project),
        Some("wrong"),
    );
    assert_eq!(status, 403, "{body}");
    let (status, body) = call(
        &mut b,
        m,
        "POST",
        "/api/projects",
        Some(&project),
        Some(&csrf),
    );
    assert_eq!(status, 201, "{body}");

    // The same person comes back: the same user, a new session; the old one is over.
    let old = b.cookie(&m.url, "marcus_session").unwrap();
    let again = to_callback(
        &mut b,
        &m.url,
        &site.login_url("acme"),
        "alice",
        "wonderland",
        |u| u,
    )
    .unwrap();
    assert_eq!(b.get(&again).status, 302);
    let new = b.cookie(&m.url, "marcus_session").unwrap();
    assert_ne!(old, new, "a sign-in rotates the session");
    let stale = m.request(
        "GET",
        "/api/projects",
        &[("cookie", &format!("marcus_session={old}"))],
        None,
    );
    assert_eq!(stale.status, 401, "the replaced session is over");

    // Bob's only group maps to member: he reads and works, but is no admin.
    let mut bob = signed_in(&site, "acme", "bob", "builder");
    let me = session(&mut bob, m);
    assert_eq!(
        (me["user"].clone(), me["role"].clone()),
        (json!("bob@example.test"), json!("member"))
    );
    let (status, _) = call(&mut bob, m, "GET", "/api/admin/tokens", None, None);
    assert_eq!(status, 403, "a member's session is no admin");

    // Signing out ends the session here and names the provider's sign-out.
    let csrf = me["csrf_token"].as_str().unwrap().to_string();
    let (status, body) = call(&mut bob, m, "POST", "/auth/logout", None, None);
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (403, json!("csrf_failed")),
        "{body}"
    );
    let before = bob.cookie(&m.url, "marcus_session").unwrap();
    let (status, body) = call(&mut bob, m, "POST", "/auth/logout", None, Some(&csrf));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["signed_out"], json!(true));
    let logout = body["provider_logout_url"]
        .as_str()
        .expect("the provider's sign-out");
    assert!(
        logout.starts_with(&site.provider.issuer) && logout.contains("id_token_hint="),
        "{logout}"
    );
    assert!(
        logout.contains(&format!("client_id={}", site.client_id)),
        "{logout}"
    );
    let after = m.request(
        "GET",
        "/api/projects",
        &[("cookie", &format!("marcus_session={before}"))],
        None,
    );
    assert_eq!(after.status, 401, "a signed-out session is over");
    assert_eq!(session(&mut bob, m)["signed_in"], json!(false));

    // The client secret and session secrets never reach the log.
    let log = m.stderr_text();
    assert!(log.contains("signed in"), "sign-ins are logged");
    assert!(
        !log.contains(&new) && !log.contains(&before),
        "a session secret was logged"
    );
}

#[test]
fn bad_answers_and_people_without_a_role_are_refused() {
    if !oidc_provider::node_ready(SUITE) {
        return;
    }
    let site = Site::start();
    let m = &site.m;
    let no_session = |b: &Browserless| assert!(b.cookie(&m.url, "marcus_session").is_none());

    // A wrong password stays at the provider.
    let mut b = Browserless::new();
    let refused = to_callback(
        &mut b,
        &m.url,
        &site.login_url("acme"),
        "alice",
        "queen",
        |u| u,
    )
    .unwrap_err();
    assert_eq!(refused.status, 401);
    assert!(
        refused.body.contains("Invalid username or password"),
        "{}",
        refused.body
    );
    no_session(&b);

    // An answer whose state is not the one this browser's sign-in holds.
    let mut b = Browserless::new();
    let callback = to_callback(
        &mut b,
        &m.url,
        &site.login_url("acme"),
        "alice",
        "wonderland",
        |u| u,
    )
    .unwrap();
    let forged = with_param(&callback, "state", "forged-state");
    let hop = b.get(&forged);
    assert_eq!(
        (hop.status, hop.error_code()),
        (400, "login_state_mismatch".into()),
        "{}",
        hop.body
    );
    no_session(&b);

    // The same answer twice: the second finds its sign-in finished.
    let mut b = Browserless::new();
    let callback = to_callback(
        &mut b,
        &m.url,
        &site.login_url("acme"),
        "alice",
        "wonderland",
        |u| u,
    )
    .unwrap();
    let state = b.cookie(&m.url, "marcus_login").unwrap();
    assert_eq!(b.get(&callback).status, 302);
    b.set_cookie(&m.url, "marcus_login", &state);
    let hop = b.get(&callback);
    assert_eq!(
        (hop.status, hop.error_code()),
        (400, "login_state_unknown".into()),
        "{}",
        hop.body
    );

    // An ID token with another nonce than the one this sign-in sent.
    let mut b = Browserless::new();
    let callback = to_callback(
        &mut b,
        &m.url,
        &site.login_url("acme"),
        "alice",
        "wonderland",
        |u| with_param(&u, "nonce", "a-nonce-of-another-sign-in"),
    )
    .unwrap();
    let hop = b.get(&callback);
    assert_eq!(
        (hop.status, hop.error_code()),
        (401, "id_token_refused".into()),
        "{}",
        hop.body
    );
    assert!(
        hop.body.contains("once"),
        "the refusal names the nonce: {}",
        hop.body
    );
    no_session(&b);

    // A code (and so an ID token) issued to another client of the same provider.
    let (other_client, _) = site
        .provider
        .register_client(&[format!("{}/auth/oidc/callback", m.url)], &[]);
    let mut b = Browserless::new();
    let callback = to_callback(
        &mut b,
        &m.url,
        &site.login_url("acme"),
        "alice",
        "wonderland",
        |u| with_param(&u, "client_id", &other_client),
    )
    .unwrap();
    let hop = b.get(&callback);
    assert_eq!(
        (hop.status, hop.error_code()),
        (401, "login_refused".into()),
        "{}",
        hop.body
    );
    no_session(&b);

    // A second tenant binds another provider. Its people sign in there, see only its board,
    // and an answer from its provider never completes a sign-in to acme.
    let other = Provider::start();
    common::cli::ok(site.dir.path(), None, &["tenant", "create", "globex"]);
    let globex_client = bind(site.dir.path(), None, "globex", &other, &[m]);
    let mut acme_admin = signed_in(&site, "acme", "alice", "wonderland");
    let csrf = session(&mut acme_admin, m)["csrf_token"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, _) = call(
        &mut acme_admin,
        m,
        "POST",
        "/api/projects",
        Some(&json!({"project_name": "acme-only"})),
        Some(&csrf),
    );
    assert_eq!(status, 201);
    let mut globex = signed_in(&site, "globex", "alice", "wonderland");
    let me = session(&mut globex, m);
    assert_eq!(
        (me["tenant"].clone(), me["role"].clone()),
        (json!("globex"), json!("admin"))
    );
    let (status, projects) = call(&mut globex, m, "GET", "/api/projects", None, None);
    assert_eq!(status, 200);
    assert!(
        !projects.to_string().contains("acme-only"),
        "globex sees acme's board: {projects}"
    );

    let mut b = Browserless::new();
    let callback = to_callback(
        &mut b,
        &m.url,
        &site.login_url("acme"),
        "alice",
        "wonderland",
        |u| {
            // acme's sign-in request, answered by globex's provider.
            let moved = u.replacen(&site.provider.issuer, &other.issuer, 1);
            with_param(&moved, "client_id", &globex_client)
        },
    )
    .unwrap();
    assert!(b.cookie(&m.url, "marcus_login").is_some());
    let hop = b.get(&callback);
    assert_eq!(
        (hop.status, hop.error_code()),
        (401, "login_refused".into()),
        "{}",
        hop.body
    );
    no_session(&b);

    // A person whose groups grant no role here.
    let mut b = Browserless::new();
    let callback = to_callback(
        &mut b,
        &m.url,
        &site.login_url("acme"),
        "carol",
        "carol-pass",
        |u| u,
    )
    .unwrap();
    let hop = b.get(&callback);
    assert_eq!(
        (hop.status, hop.error_code()),
        (403, "no_role".into()),
        "{}",
        hop.body
    );
    no_session(&b);

    // The provider's own refusal (no session there, and no prompt allowed).
    let mut b = Browserless::new();
    let first = b.get(&site.login_url("acme"));
    let hop = b.get(&with_param(&first.location.unwrap(), "prompt", "none"));
    let back = hop.location.expect("the provider answers the callback");
    assert!(
        back.starts_with(&m.url) && back.contains("error=login_required"),
        "{back}"
    );
    let hop = b.get(&back);
    assert_eq!(
        (hop.status, hop.error_code()),
        (401, "login_refused".into()),
        "{}",
        hop.body
    );

    // A return address elsewhere lands on the dashboard instead.
    let mut b = Browserless::new();
    let start = format!("{}&return_to=//evil.example/", site.login_url("acme"));
    let callback = to_callback(&mut b, &m.url, &start, "alice", "wonderland", |u| u).unwrap();
    assert_eq!(
        b.get(&callback).location.as_deref(),
        Some(&*format!("{}/", m.url))
    );

    // Tenants without single sign-on, unknown ones and bad names.
    let none = b.get(&format!("{}/auth/oidc/login?tenant=default", m.url));
    assert_eq!(
        (none.status, none.error_code()),
        (404, "sso_not_configured".into())
    );
    let unknown = b.get(&format!("{}/auth/oidc/login?tenant=initech", m.url));
    assert_eq!(unknown.status, 404);
    let bad = b.get(&format!("{}/auth/oidc/login?tenant=Not%20A%20Name", m.url));
    assert_eq!(bad.status, 400);
    let missing = b.get(&format!("{}/auth/oidc/login", m.url));
    assert_eq!(missing.status, 400);

    // A disabled tenant's sessions are refused.
    common::cli::ok(site.dir.path(), None, &["tenant", "disable", "globex"]);
    let gone = common::team::wait_until(Duration::from_secs(10), || {
        call(&mut globex, m, "GET", "/api/projects", None, None).0 == 401
    });
    assert!(gone.is_some(), "a disabled tenant's session still works");
}

#[test]
fn cookies_are_secure_when_the_server_is_reached_over_https() {
    if !oidc_provider::node_ready(SUITE) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    common::cli::ok(dir.path(), None, &["tenant", "create", "acme"]);
    let m = Marcus::spawn(
        Some(dir.path()),
        &["--require-auth", "--public-url", "https://marcus.example"],
        &[],
    );
    let provider = Provider::start();
    let (client_id, secret) =
        provider.register_client(&["https://marcus.example/auth/oidc/callback".into()], &[]);
    common::cli::ok(
        dir.path(),
        None,
        &[
            "sso",
            "oidc",
            "set",
            "--tenant",
            "acme",
            "--issuer",
            &provider.issuer,
            "--client-id",
            &client_id,
            "--client-secret",
            &secret,
        ],
    );
    let mut b = Browserless::new();
    let hop = b.get(&format!("{}/auth/oidc/login?tenant=acme", m.url));
    assert_eq!(hop.status, 302, "{}", hop.body);
    assert!(
        hop.location
            .as_deref()
            .unwrap()
            .contains("redirect_uri=https%3A%2F%2Fmarcus.example%2Fauth%2Foidc%2Fcallback"),
        "{:?}",
        hop.location
    );
    let cookie = hop.set_cookie("marcus_login").unwrap();
    assert!(
        cookie.ends_with("Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );

    // `marcus sso show` lists the binding without its secret; bad settings are refused.
    let shown = common::cli::ok(dir.path(), None, &["sso", "show"]);
    assert!(
        shown.contains("acme") && shown.contains(&provider.issuer),
        "{shown}"
    );
    assert!(!shown.contains(&secret), "{shown}");
    for (bad, why) in [
        (
            vec![
                "--tenant",
                "acme",
                "--issuer",
                "http://id.example",
                "--client-id",
                "c",
                "--client-secret",
                "s",
            ],
            "https",
        ),
        (
            vec![
                "--tenant",
                "acme",
                "--issuer",
                "https://id.example",
                "--client-id",
                "c",
                "--client-secret",
                "s",
                "--role-map",
                "acme=owner",
            ],
            "role",
        ),
        (
            vec![
                "--tenant",
                "initech",
                "--issuer",
                "https://id.example",
                "--client-id",
                "c",
                "--client-secret",
                "s",
            ],
            "tenant",
        ),
    ] {
        let mut args = vec!["sso", "oidc", "set"];
        args.extend(bad);
        let out = common::cli::output(dir.path(), None, &args);
        assert!(!out.status.success(), "{args:?} was accepted");
        let err = String::from_utf8_lossy(&out.stderr).to_lowercase();
        assert!(err.contains(why), "{args:?}: {err}");
    }
}

#[test]
fn a_session_made_on_one_host_is_accepted_by_the_other() {
    if !oidc_provider::node_ready(SUITE) {
        return;
    }
    let Some(team) = common::team::team("sso") else {
        return;
    };
    let db = Some(team.db.url.as_str());
    let dir = tempfile::tempdir().unwrap();
    common::cli::ok(dir.path(), db, &["tenant", "create", "acme"]);
    let env = team.env();
    let one = Marcus::spawn(Some(dir.path()), &["--require-auth"], &env);
    let other_dir = tempfile::tempdir().unwrap();
    let two = Marcus::spawn(Some(other_dir.path()), &["--require-auth"], &env);
    let provider = Provider::start();
    bind(dir.path(), db, "acme", &provider, &[&one, &two]);

    // Signed in through host one.
    let mut b = Browserless::new();
    let start = format!("{}/auth/oidc/login?tenant=acme", one.url);
    let callback = to_callback(&mut b, &one.url, &start, "alice", "wonderland", |u| u).unwrap();
    assert_eq!(b.get(&callback).status, 302);
    let secret = b.cookie(&one.url, "marcus_session").unwrap();

    // The next requests go to host two with the same cookie.
    b.set_cookie(&two.url, "marcus_session", &secret);
    let me = session(&mut b, &two);
    assert_eq!(
        (me["user"].clone(), me["role"].clone()),
        (json!("alice@example.test"), json!("admin")),
        "{me}"
    );
    let csrf = me["csrf_token"].as_str().unwrap().to_string();
    let (status, body) = call(
        &mut b,
        &two,
        "POST",
        "/api/projects",
        Some(&json!({"project_name": "across hosts"})),
        Some(&csrf),
    );
    assert_eq!(status, 201, "{body}");
    let (_, projects) = call(&mut b, &one, "GET", "/api/projects", None, None);
    assert!(projects.to_string().contains("across hosts"), "{projects}");

    // Signing out on host two ends the session on host one at once.
    let (status, _) = call(&mut b, &two, "POST", "/auth/logout", None, Some(&csrf));
    assert_eq!(status, 200);
    let after = one.request(
        "GET",
        "/api/projects",
        &[("cookie", &format!("marcus_session={secret}"))],
        None,
    );
    assert_eq!(after.status, 401);
}

/// Headless Chromium: the provider's real form, filled and submitted, lands on the
/// dashboard, which names the person and their role.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_signs_in_with_a_real_browser_and_sees_their_role_on_the_dashboard() {
    use chromiumoxide::browser::{Browser, BrowserConfig};
    use futures::StreamExt;
    if !oidc_provider::node_ready(SUITE) {
        return;
    }
    if !Path::new(CHROMIUM).exists() {
        common::team::skip(
            SUITE,
            &format!("chromium at {CHROMIUM} (apt-get install chromium)"),
        );
        return;
    }
    let site = tokio::task::spawn_blocking(Site::start).await.unwrap();
    let base = site.m.url.clone();

    for (user, password, expected) in [
        ("alice", "wonderland", Some("alice@example.test · admin")),
        ("bob", "not-his-password", None),
        ("bob", "builder", Some("bob@example.test · member")),
    ] {
        let profile = tempfile::tempdir().unwrap();
        let config = BrowserConfig::builder()
            .chrome_executable(CHROMIUM)
            .user_data_dir(profile.path())
            .no_sandbox()
            .args([
                "--headless",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ])
            .launch_timeout(Duration::from_secs(60))
            .request_timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let (mut browser, mut handler) = Browser::launch(config).await.expect("launching chromium");
        let events = tokio::spawn(async move { while handler.next().await.is_some() {} });
        let page = browser
            .new_page(format!("{base}/auth/oidc/login?tenant=acme"))
            .await
            .unwrap();
        let eval = |js: &'static str| {
            let page = page.clone();
            async move {
                page.evaluate(js)
                    .await
                    .ok()
                    .and_then(|v| v.into_value::<String>().ok())
                    .unwrap_or_default()
            }
        };
        wait_for(
            || eval("document.querySelector('input[name=password]') ? 'form' : ''"),
            "form",
        )
        .await;
        page.find_element("input[name=username]")
            .await
            .unwrap()
            .click()
            .await
            .unwrap()
            .type_str(user)
            .await
            .unwrap();
        page.find_element("input[name=password]")
            .await
            .unwrap()
            .click()
            .await
            .unwrap()
            .type_str(password)
            .await
            .unwrap();
        page.find_element("button[type=submit]")
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        match expected {
            Some(shown) => {
                let js = "(() => { const e = document.getElementById('whoami'); return e && !e.hidden ? e.textContent : ''; })()";
                wait_for(|| eval(js), shown).await;
                let url = page.url().await.unwrap().unwrap_or_default();
                assert!(url.starts_with(&base), "landed on {url}");
                // The session cookie is out of the page's scripts' reach.
                assert_eq!(
                    eval("document.cookie.includes('marcus_session') ? 'readable' : 'hidden'")
                        .await,
                    "hidden"
                );
                // The board answers the page with the session.
                let status = eval("fetch('/api/projects').then(r => String(r.status))").await;
                assert_eq!(status, "200");
            }
            None => {
                wait_for(
                    || eval("document.body ? document.body.innerText : ''"),
                    "Invalid username or password",
                )
                .await;
                let url = page.url().await.unwrap().unwrap_or_default();
                assert!(
                    url.starts_with(&site.provider.issuer),
                    "a wrong password left the provider: {url}"
                );
                page.goto(format!("{base}/auth/session")).await.unwrap();
                wait_for(
                    || eval("document.body ? document.body.innerText : ''"),
                    "\"signed_in\":false",
                )
                .await;
            }
        }
        browser.close().await.ok();
        events.abort();
    }
}

/// Waits until `probe` answers text containing `wanted` (20 s at most).
async fn wait_for<F, Fut>(probe: F, wanted: &str)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = String>,
{
    let started = Instant::now();
    let mut last = String::new();
    while started.elapsed() < Duration::from_secs(20) {
        last = probe().await;
        if last.contains(wanted) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("waited 20 s for {wanted:?}; last saw {last:?}");
}

/// A build without the `saml` feature says so wherever SAML is asked for (the `saml` suite
/// runs only in a build with it: `cargo test --release --features saml`).
#[cfg(not(feature = "saml"))]
#[test]
fn a_build_without_saml_says_how_to_get_it() {
    // Written to the process's stderr, not the test's captured output, so it always shows.
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED: saml (this test build has no SAML; `cargo test --release --features saml` runs it, with libxmlsec1-dev, libxml2-dev, libssl-dev, libclang-dev and pkg-config installed)"
    );
    let dir = tempfile::tempdir().unwrap();
    common::cli::ok(dir.path(), None, &["tenant", "create", "acme"]);
    let m = Marcus::spawn(Some(dir.path()), &["--require-auth"], &[]);
    for path in [
        "/auth/saml/login?tenant=acme",
        "/auth/saml/metadata?tenant=acme",
    ] {
        let (status, code) = m.get(path).error();
        assert_eq!((status, code.as_str()), (501, "not_built"), "{path}");
    }
    let out = common::cli::output(
        dir.path(),
        None,
        &[
            "sso",
            "saml",
            "set",
            "--tenant",
            "acme",
            "--idp-metadata",
            "/dev/null",
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--features saml"));
}
