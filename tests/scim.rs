//! SCIM 2.0 provisioning at `/scim/v2`: the `scim2-tester` compliance checker (PyPI) passes
//! against the real server; users and groups stay inside their tenant; names are unique
//! per tenant whatever their case; only a tenant's admin provisions; and a user deactivated
//! by its identity provider loses its browser session and the tokens they made at once, and
//! cannot sign in again
//! (against a real OpenID Connect provider).
//!
//! Needs the pinned tester in its own Python environment (`python3 -m venv tests/scim/.venv
//! && tests/scim/.venv/bin/pip install -r tests/scim/requirements.txt`) and,
//! for the deactivation test, Node.js; without them those tests are skipped with a message
//! (under CI they fail).

mod common;

use common::Marcus;
use common::browserless::Browserless;
use common::oidc_provider::{self, Provider};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;

const SUITE: &str = "scim (SCIM 2.0 provisioning)";

/// The Python with the pinned tester: its own environment in `tests/scim/.venv` (where
/// `.ci/run` makes it), so its pins never meet other Python tools' needs.
fn python() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/scim/.venv/bin/python3")
}

/// Whether the pinned compliance tester is importable.
fn tester_ready() -> bool {
    let ok = Command::new(python())
        .args(["-c", "import scim2_tester, scim2_client, httpx2"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        common::team::skip(
            SUITE,
            "the SCIM tester in tests/scim/.venv (python3 -m venv tests/scim/.venv && tests/scim/.venv/bin/pip install -r tests/scim/requirements.txt)",
        );
    }
    ok
}

fn runner() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/scim/run_tester.py")
}

/// A server requiring credentials with tenants `acme` and `globex`, and an admin token of
/// each.
struct Site {
    dir: tempfile::TempDir,
    m: Marcus,
    acme: String,
    globex: String,
}

fn admin_token(dir: &Path, tenant: &str, name: &str, role: &str) -> String {
    common::cli::ok(
        dir,
        None,
        &[
            "token", "create", "--tenant", tenant, "--role", role, "--name", name, "--quiet",
        ],
    )
    .trim()
    .to_string()
}

impl Site {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        for t in ["acme", "globex"] {
            common::cli::ok(dir.path(), None, &["tenant", "create", t]);
        }
        let acme = admin_token(dir.path(), "acme", "acme-scim", "admin");
        let globex = admin_token(dir.path(), "globex", "globex-scim", "admin");
        let m = Marcus::spawn(Some(dir.path()), &["--require-auth"], &[]);
        Self {
            dir,
            m,
            acme,
            globex,
        }
    }

    fn scim(&self, token: &str, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let auth = format!("Bearer {token}");
        let mut headers = vec![("authorization", auth.as_str())];
        if body.is_some() {
            headers.push(("content-type", "application/scim+json"));
        }
        let bytes = body.map(|b| b.to_string().into_bytes());
        let a = self.m.request(
            method,
            &format!("/scim/v2{path}"),
            &headers,
            bytes.as_deref(),
        );
        if a.status != 204 && a.status < 500 && a.status != 401 && a.status != 403 {
            assert_eq!(
                a.header("content-type").as_deref(),
                Some("application/scim+json"),
                "{path}"
            );
        }
        (
            a.status,
            serde_json::from_slice(&a.body).unwrap_or(Value::Null),
        )
    }
}

fn user(name: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": name,
        "name": {"givenName": "Ada", "familyName": "Lovelace"},
        "emails": [{"value": name, "type": "work", "primary": true}],
        "active": true
    })
}

#[test]
fn the_compliance_tester_passes() {
    if !tester_ready() {
        return;
    }
    let site = Site::start();
    let out = Command::new(python())
        .arg(runner())
        .arg(format!("{}/scim/v2", site.m.url))
        .env("SCIM_TOKEN", &site.acme)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    println!("{report}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the SCIM tester failed:\n{report}");
    assert!(report.contains(" passed, 0 failed"), "{report}");

    // A token of another tenant is refused the same way (the tester sees nothing of acme).
    let bad = Command::new(python())
        .arg(runner())
        .arg(format!("{}/scim/v2", site.m.url))
        .env("SCIM_TOKEN", "mrc_not_a_token")
        .output()
        .unwrap();
    assert!(!bad.status.success(), "a made-up token passed the tester");
}

#[test]
fn users_and_groups_stay_in_their_tenant_and_only_admins_provision() {
    let site = Site::start();
    let (status, ada) = site.scim(
        &site.acme,
        "POST",
        "/Users",
        Some(&user("ada@acme.example")),
    );
    assert_eq!(status, 201, "{ada}");
    let id = ada["id"].as_str().unwrap().to_string();
    assert_eq!(
        ada["meta"]["location"],
        json!(format!("{}/scim/v2/Users/{id}", site.m.url))
    );

    // Names are unique per tenant whatever their case; another tenant may use the same one.
    let (status, taken) = site.scim(
        &site.acme,
        "POST",
        "/Users",
        Some(&user("ADA@acme.example")),
    );
    assert_eq!(
        (status, taken["scimType"].clone()),
        (409, json!("uniqueness")),
        "{taken}"
    );
    let (status, _) = site.scim(
        &site.globex,
        "POST",
        "/Users",
        Some(&user("ada@acme.example")),
    );
    assert_eq!(status, 201, "globex has its own names");

    // Another tenant's admin sees none of acme's people.
    let (status, _) = site.scim(&site.globex, "GET", &format!("/Users/{id}"), None);
    assert_eq!(status, 404, "globex reads acme's user");
    let (status, _) = site.scim(
        &site.globex,
        "PATCH",
        &format!("/Users/{id}"),
        Some(&json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "active", "value": false}]
        })),
    );
    assert_eq!(status, 404, "globex changes acme's user");
    let (_, list) = site.scim(&site.globex, "GET", "/Users", None);
    assert_eq!(list["totalResults"], json!(1), "{list}");

    // Filters find by name; groups hold the tenant's users only.
    let (_, found) = site.scim(
        &site.acme,
        "GET",
        "/Users?filter=userName%20eq%20%22ADA%40acme.example%22",
        None,
    );
    assert_eq!(found["totalResults"], json!(1), "{found}");
    let (status, group) = site.scim(
        &site.acme,
        "POST",
        "/Groups",
        Some(&json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "acme:dev",
            "members": [{"value": id}]
        })),
    );
    assert_eq!(status, 201, "{group}");
    let (_, again) = site.scim(&site.acme, "GET", &format!("/Users/{id}"), None);
    assert_eq!(again["groups"][0]["display"], json!("acme:dev"), "{again}");
    let (_, globex_users) = site.scim(&site.globex, "GET", "/Users", None);
    let globex_id = globex_users["Resources"][0]["id"].as_str().unwrap();
    let (status, refused) = site.scim(
        &site.acme,
        "POST",
        "/Groups",
        Some(&json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "smuggled",
            "members": [{"value": globex_id}]
        })),
    );
    assert_eq!(status, 400, "a group took another tenant's user: {refused}");

    // Only a tenant's admin provisions; without a token nothing is answered.
    let member = admin_token(site.dir.path(), "acme", "acme-member", "member");
    let (status, _) = site.scim(&member, "GET", "/Users", None);
    assert_eq!(status, 403);
    let (status, _) = site.m.get("/scim/v2/Users").error();
    assert_eq!(status, 401);

    // Bad input gets SCIM errors; deleting ends the user.
    let (status, bad) = site.scim(&site.acme, "GET", "/Users?filter=userName%20eq", None);
    assert_eq!(
        (status, bad["scimType"].clone()),
        (400, json!("invalidFilter")),
        "{bad}"
    );
    let (status, bad) = site.scim(&site.acme, "POST", "/Users", Some(&json!({"name": {}})));
    assert_eq!(status, 400, "{bad}");
    let (status, _) = site.scim(&site.acme, "DELETE", &format!("/Users/{id}"), None);
    assert_eq!(status, 204);
    let (status, _) = site.scim(&site.acme, "GET", &format!("/Users/{id}"), None);
    assert_eq!(status, 404);
    let (_, group) = site.scim(
        &site.acme,
        "GET",
        &format!("/Groups/{}", group["id"].as_str().unwrap()),
        None,
    );
    assert!(
        group["members"].as_array().is_none_or(|m| m.is_empty()),
        "{group}"
    );
    // The name is free again.
    let (status, _) = site.scim(
        &site.acme,
        "POST",
        "/Users",
        Some(&user("ada@acme.example")),
    );
    assert_eq!(status, 201);
}

#[test]
fn a_deactivated_user_loses_sessions_and_tokens_at_once_and_cannot_sign_in() {
    if !oidc_provider::node_ready(SUITE) {
        return;
    }
    let site = Site::start();
    let m = &site.m;
    let provider = Provider::start();
    let (client_id, secret) =
        provider.register_client(&[format!("{}/auth/oidc/callback", m.url)], &[]);
    common::cli::ok(
        site.dir.path(),
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
            "--role-map",
            "acme:admin=admin,acme:dev=member",
        ],
    );
    // The identity provider provisioned alice before her first sign-in.
    let (status, alice) = site.scim(
        &site.acme,
        "POST",
        "/Users",
        Some(&user("alice@example.test")),
    );
    assert_eq!(status, 201);
    let alice_id = alice["id"].as_str().unwrap().to_string();

    let sign_in = |b: &mut Browserless| {
        let start = format!("{}/auth/oidc/login?tenant=acme", m.url);
        let first = b.get(&start);
        let mut next = first.location.unwrap();
        for _ in 0..12 {
            if next.starts_with(&m.url) {
                return b.get(&next);
            }
            let hop = b.get(&next);
            if hop.status == 200 && hop.body.contains("name=\"password\"") {
                let action = hop
                    .body
                    .split("action=\"")
                    .nth(1)
                    .unwrap()
                    .split('"')
                    .next()
                    .unwrap()
                    .to_string();
                let origin = common::browserless::origin(&next);
                let posted = b.post_form(
                    &format!("{origin}{action}"),
                    &[("username", "alice"), ("password", "wonderland")],
                );
                next = posted.location.unwrap();
            } else {
                next = hop
                    .location
                    .unwrap_or_else(|| panic!("stuck at {next}: {}", hop.body));
            }
        }
        panic!("the sign-in went round in circles");
    };
    let mut b = Browserless::new();
    let back = sign_in(&mut b);
    assert_eq!(back.status, 302, "{}", back.body);
    let session = b.cookie(&m.url, "marcus_session").unwrap();
    let cookie = format!("marcus_session={session}");
    assert_eq!(
        m.request("GET", "/api/projects", &[("cookie", &cookie)], None)
            .status,
        200
    );
    // The sign-in found the provisioned user (no second alice) and bound the account to it.
    let (_, list) = site.scim(&site.acme, "GET", "/Users", None);
    assert_eq!(list["totalResults"], json!(1), "{list}");
    // Signed in (an admin by her groups), she makes a token for a script of hers.
    let me: Value = serde_json::from_slice(
        &m.request("GET", "/auth/session", &[("cookie", &cookie)], None)
            .body,
    )
    .unwrap();
    let csrf = me["csrf_token"].as_str().unwrap().to_string();
    let made = m.request(
        "POST",
        "/api/admin/tokens",
        &[
            ("cookie", &cookie),
            ("x-csrf-token", &csrf),
            ("content-type", "application/json"),
        ],
        Some(
            json!({"name": "alice-script", "role": "member"})
                .to_string()
                .as_bytes(),
        ),
    );
    assert_eq!(made.status, 201, "{}", made.text_prefix());
    let made = made.json();
    assert_eq!(
        made["record"]["owner"],
        json!("alice@example.test"),
        "{made}"
    );
    let script = format!("Bearer {}", made["token"].as_str().unwrap());
    assert_eq!(
        m.request("GET", "/api/projects", &[("authorization", &script)], None)
            .status,
        200
    );

    let (status, body) = site.scim(
        &site.acme,
        "PATCH",
        &format!("/Users/{alice_id}"),
        Some(&json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "Replace", "value": {"active": "False"}}]
        })),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["active"], json!(false));
    assert_eq!(
        m.request("GET", "/api/projects", &[("cookie", &cookie)], None)
            .status,
        401,
        "a deactivated user's session still works"
    );
    assert_eq!(
        m.request("GET", "/api/projects", &[("authorization", &script)], None)
            .status,
        401,
        "a deactivated user's token still works"
    );
    let mut again = Browserless::new();
    let refused = sign_in(&mut again);
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(
        refused.body.contains("user_deactivated"),
        "{}",
        refused.body
    );
    assert!(again.cookie(&m.url, "marcus_session").is_none());
}
