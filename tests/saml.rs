//! People signing in to Marcus through their organisation's SAML 2.0 identity provider,
//! against real ones (Debian's SimpleSAMLphp, started on loopback by the suite): the role
//! their groups grant, and each kind of bad answer refused: a forged attribute, a replayed
//! response, a wrong audience, an expired assertion, an unsigned one, one signed by another
//! key, and an unsolicited one (accepted only where the tenant allows it, and then once).
//! Headless Chromium signs in through the provider's real form to the dashboard.
//!
//! Needs SimpleSAMLphp and PHP (and Chromium for the browser test); without them the suite
//! is skipped with a message (under CI it fails).

mod common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::Marcus;
use common::browserless::Browserless;
use common::saml_idp::{self, Idp, SamlPost};
use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};

const SUITE: &str = "saml (single sign-on with a real SAML identity provider)";
const ROLE_MAP: &str = "acme:admin=admin,acme:dev=member";

/// The service provider Marcus is for `tenant`.
fn sp(m: &Marcus, tenant: &str) -> String {
    format!("{}/auth/saml/metadata?tenant={tenant}", m.url)
}

fn acs(m: &Marcus) -> String {
    format!("{}/auth/saml/acs", m.url)
}

/// Makes `tenant` and binds it to `idp` with `marcus sso saml set`.
fn bind(dir: &Path, tenant: &str, idp: &Idp, extra: &[&str]) {
    if tenant != "default" {
        let out = common::cli::output(dir, None, &["tenant", "create", tenant]);
        assert!(out.status.success() || String::from_utf8_lossy(&out.stderr).contains("exists"));
    }
    let mut args = vec![
        "sso",
        "saml",
        "set",
        "--tenant",
        tenant,
        "--idp-metadata",
        &idp.metadata_url,
        "--role-map",
        ROLE_MAP,
    ];
    args.extend(extra);
    let out = common::cli::ok(dir, None, &args);
    assert!(out.contains(&idp.metadata_url), "{out}");
}

/// Starts a sign-in to `tenant` at Marcus and walks it through the provider as `user`.
fn through(
    b: &mut Browserless,
    m: &Marcus,
    tenant: &str,
    user: &str,
    password: &str,
) -> Option<SamlPost> {
    let start = b.get(&format!("{}/auth/saml/login?tenant={tenant}", m.url));
    assert_eq!(start.status, 302, "{}", start.body);
    let to_idp = start.location.unwrap();
    assert!(
        to_idp.contains("SAMLRequest=") && to_idp.contains("RelayState="),
        "{to_idp}"
    );
    saml_idp::sign_in(b, &to_idp, user, password)
}

/// Posts the provider's answer to Marcus as the provider's page would.
fn post(b: &mut Browserless, m: &Marcus, answer: &SamlPost) -> common::browserless::Hop {
    assert_eq!(answer.action, acs(m));
    b.send(
        "POST",
        &answer.action,
        Some(&answer.fields()),
        &[("origin", "http://127.0.0.1:1")],
    )
}

/// The signed-in session `b` holds at `m`.
fn session(b: &mut Browserless, m: &Marcus) -> Value {
    let hop = b.get(&format!("{}/auth/session", m.url));
    serde_json::from_str(&hop.body).unwrap()
}

/// `answer` with its decoded XML changed by `edit` (the signature left as it was).
fn tampered(answer: &SamlPost, edit: impl FnOnce(String) -> String) -> SamlPost {
    let xml = String::from_utf8(STANDARD.decode(&answer.saml_response).unwrap()).unwrap();
    let changed = edit(xml.clone());
    assert_ne!(changed, xml, "the edit changed nothing");
    SamlPost {
        saml_response: STANDARD.encode(changed),
        ..answer.clone()
    }
}

fn refused(hop: &common::browserless::Hop, why: &str) {
    assert_eq!(hop.status, 401, "accepted: {}", hop.body);
    assert_eq!(hop.error_code(), "saml_refused", "{}", hop.body);
    assert!(
        hop.body.to_lowercase().contains(why),
        "{why:?} not in {}",
        hop.body
    );
    assert!(hop.set_cookie("marcus_session").is_none());
}

#[test]
fn people_sign_in_with_their_groups_role_and_bad_responses_are_refused() {
    if !saml_idp::ready(SUITE) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let m = Marcus::spawn(Some(dir.path()), &["--require-auth"], &[]);
    let idp = Idp::start(&sp(&m, "acme"), &acs(&m), "signed");
    bind(dir.path(), "acme", &idp, &[]);

    // The service provider's metadata names its entity id and where answers go.
    let metadata = m.get("/auth/saml/metadata?tenant=acme");
    assert_eq!(metadata.status, 200);
    let xml = String::from_utf8_lossy(&metadata.body).to_string();
    assert!(
        xml.contains(&format!(
            "entityID=\"{}\"",
            sp(&m, "acme").replace('&', "&amp;")
        )),
        "{xml}"
    );
    assert!(xml.contains(&acs(&m)), "{xml}");
    assert_eq!(m.get("/auth/saml/metadata?tenant=default").status, 404);

    // Alice's groups make her an admin, Bob's a member; Carol's grant nothing.
    let mut alice = Browserless::new();
    let answer = through(&mut alice, &m, "acme", "alice", "wonderland").expect("alice signs in");
    let back = post(&mut alice, &m, &answer);
    assert_eq!(back.status, 302, "{}", back.body);
    let cookie = back.set_cookie("marcus_session").unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let me = session(&mut alice, &m);
    assert_eq!(
        (
            me["user"].clone(),
            me["role"].clone(),
            me["protocol"].clone()
        ),
        (json!("alice@example.test"), json!("admin"), json!("saml")),
        "{me}"
    );

    let mut bob = Browserless::new();
    let bobs = through(&mut bob, &m, "acme", "bob", "builder").unwrap();
    // A forged attribute: Bob's own signed response, his group rewritten to the admins'.
    let forged = tampered(&bobs, |x| x.replace("acme:dev", "acme:admin"));
    refused(&post(&mut bob, &m, &forged), "signature");
    let mut bob = Browserless::new();
    let bobs = through(&mut bob, &m, "acme", "bob", "builder").unwrap();
    assert_eq!(post(&mut bob, &m, &bobs).status, 302);
    assert_eq!(session(&mut bob, &m)["role"], json!("member"));
    // The same response again: its sign-in is finished, and it is refused.
    let mut replayer = Browserless::new();
    refused(&post(&mut replayer, &m, &bobs), "request");

    let mut carol = Browserless::new();
    let carols = through(&mut carol, &m, "acme", "carol", "carol-pass").unwrap();
    let hop = post(&mut carol, &m, &carols);
    assert_eq!(
        (hop.status, hop.error_code()),
        (403, "no_role".into()),
        "{}",
        hop.body
    );

    // A wrong password never gets a response.
    let mut eve = Browserless::new();
    assert!(through(&mut eve, &m, "acme", "alice", "not-hers").is_none());

    // A wrong audience: acme's response presented for a sign-in to globex, which binds the
    // same provider.
    bind(dir.path(), "globex", &idp, &[]);
    let mut b = Browserless::new();
    let acmes = through(&mut b, &m, "acme", "alice", "wonderland").unwrap();
    let globex_start = b.get(&format!("{}/auth/saml/login?tenant=globex", m.url));
    let relay = globex_start.location.unwrap();
    let relay = form_urlencoded::parse(relay.split_once('?').unwrap().1.as_bytes())
        .find(|(k, _)| k == "RelayState")
        .unwrap()
        .1
        .into_owned();
    let crossed = SamlPost {
        relay_state: Some(relay),
        ..acmes
    };
    refused(&post(&mut b, &m, &crossed), "another service provider");

    // Signed by another key: another provider answers acme's request.
    let other = Idp::start(&sp(&m, "acme"), &acs(&m), "signed");
    let mut b = Browserless::new();
    let start = b.get(&format!("{}/auth/saml/login?tenant=acme", m.url));
    let elsewhere = start
        .location
        .unwrap()
        .replacen(&idp.origin(), &other.origin(), 1);
    let answer = saml_idp::sign_in(&mut b, &elsewhere, "alice", "wonderland").unwrap();
    let hop = post(&mut b, &m, &answer);
    assert_eq!(hop.status, 401, "{}", hop.body);

    // An unsolicited response (IdP-initiated) is refused while acme does not allow them.
    let mut b = Browserless::new();
    let unsolicited = saml_idp::sign_in(
        &mut b,
        &idp.initiate_url(&sp(&m, "acme")),
        "alice",
        "wonderland",
    )
    .unwrap();
    refused(
        &post(&mut b, &m, &unsolicited),
        "started at the identity provider",
    );
    // Allowed, it signs in once; the same response a second time is a replay.
    bind(dir.path(), "acme", &idp, &["--allow-unsolicited"]);
    let mut b = Browserless::new();
    let unsolicited =
        saml_idp::sign_in(&mut b, &idp.initiate_url(&sp(&m, "acme")), "bob", "builder").unwrap();
    assert_eq!(post(&mut b, &m, &unsolicited).status, 302);
    let mut again = Browserless::new();
    refused(&post(&mut again, &m, &unsolicited), "replay");

    let shown = common::cli::ok(dir.path(), None, &["sso", "show"]);
    assert!(
        shown.contains("saml") && shown.contains("IdP-initiated"),
        "{shown}"
    );
}

#[test]
fn expired_and_unsigned_assertions_are_refused() {
    if !saml_idp::ready(SUITE) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let m = Marcus::spawn(Some(dir.path()), &["--require-auth"], &[]);
    let expired = Idp::start(&sp(&m, "expiredco"), &acs(&m), "expired");
    bind(dir.path(), "expiredco", &expired, &[]);
    let unsigned = Idp::start(&sp(&m, "unsignedco"), &acs(&m), "unsigned");
    bind(dir.path(), "unsignedco", &unsigned, &[]);

    let mut b = Browserless::new();
    let answer = through(&mut b, &m, "expiredco", "alice", "wonderland").unwrap();
    refused(&post(&mut b, &m, &answer), "expired");

    let mut b = Browserless::new();
    let answer = through(&mut b, &m, "unsignedco", "alice", "wonderland").unwrap();
    refused(&post(&mut b, &m, &answer), "signed");
}

/// Headless Chromium through SimpleSAMLphp's real form to the dashboard.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_signs_in_through_saml_with_a_real_browser() {
    use chromiumoxide::browser::{Browser, BrowserConfig};
    use futures::StreamExt;
    const CHROMIUM: &str = "/usr/bin/chromium";
    if !saml_idp::ready(SUITE) {
        return;
    }
    if !Path::new(CHROMIUM).exists() {
        common::team::skip(
            SUITE,
            &format!("chromium at {CHROMIUM} (apt-get install chromium)"),
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let m = Marcus::spawn(Some(dir.path()), &["--require-auth"], &[]);
    let idp = Idp::start(&sp(&m, "acme"), &acs(&m), "signed");
    bind(dir.path(), "acme", &idp, &[]);
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
        .new_page(format!("{}/auth/saml/login?tenant=acme", m.url))
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
    let started = Instant::now();
    while eval("document.querySelector('input[name=password]') ? 'form' : ''").await != "form" {
        if started.elapsed() > Duration::from_secs(20) {
            let url = page.url().await.ok().flatten().unwrap_or_default();
            let text = eval(
                "document.documentElement ? document.documentElement.outerHTML.slice(0, 800) : ''",
            )
            .await;
            panic!("no login form at {url}: {text}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    page.find_element("input[name=username]")
        .await
        .unwrap()
        .click()
        .await
        .unwrap()
        .type_str("alice")
        .await
        .unwrap();
    page.find_element("input[name=password]")
        .await
        .unwrap()
        .click()
        .await
        .unwrap()
        .type_str("wonderland")
        .await
        .unwrap();
    page.evaluate("document.querySelector('input[name=password]').form.submit()")
        .await
        .unwrap();
    let js = "(() => { const e = document.getElementById('whoami'); return e && !e.hidden ? e.textContent : ''; })()";
    let started = Instant::now();
    let mut seen = String::new();
    while !seen.contains("alice@example.test · admin") {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the dashboard shows {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        seen = eval(js).await;
    }
    let url = page.url().await.unwrap().unwrap_or_default();
    assert!(url.starts_with(&m.url), "landed on {url}");
    browser.close().await.ok();
    events.abort();
}
