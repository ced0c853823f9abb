//! panva's `oidc-provider` (npm), started on loopback: the real OpenID Connect provider of
//! the `oidc` and `sso` suites (tests/oidc/provider.mjs says what it offers).

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

/// The fixture folder: the provider and the SDK flow script.
pub fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/oidc")
}

/// Installs the fixture's pinned npm packages once per run; false (after reporting the
/// skip) where Node.js or npm is missing.
pub fn node_ready(suite: &str) -> bool {
    static READY: OnceLock<Result<(), String>> = OnceLock::new();
    let ready = READY.get_or_init(|| {
        let node = Command::new("node").arg("--version").output();
        if !node.is_ok_and(|o| o.status.success()) {
            return Err("Node.js (node on PATH)".into());
        }
        if fixture().join("node_modules/oidc-provider").is_dir()
            && fixture()
                .join("node_modules/@modelcontextprotocol/sdk")
                .is_dir()
        {
            return Ok(());
        }
        let installed = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(fixture())
            .status();
        match installed {
            Ok(s) if s.success() => Ok(()),
            _ => Err("npm ci in tests/oidc (the npm registry)".into()),
        }
    });
    match ready {
        Ok(()) => true,
        Err(why) => {
            super::team::skip(suite, why);
            false
        }
    }
}

/// A running provider; killed when dropped.
pub struct Provider {
    child: Child,
    /// Its issuer URL.
    pub issuer: String,
}

impl Provider {
    /// Starts a provider on a free port.
    pub fn start() -> Self {
        let mut child = Command::new("node")
            .arg("provider.mjs")
            .arg("0")
            .current_dir(fixture())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting node provider.mjs");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let issuer = line
            .trim()
            .strip_prefix("ready ")
            .unwrap_or_else(|| panic!("the provider printed {line:?}"))
            .to_string();
        Self { child, issuer }
    }

    /// A client-credentials access token of `client` for `resource` with `scope`.
    pub fn token(&self, client: &str, resource: &str, scope: &str) -> String {
        let discovery: Value =
            ureq::get(&format!("{}/.well-known/openid-configuration", self.issuer))
                .call()
                .unwrap()
                .into_json()
                .unwrap();
        let answer: Value = ureq::post(discovery["token_endpoint"].as_str().unwrap())
            .send_form(&[
                ("grant_type", "client_credentials"),
                ("client_id", client),
                ("client_secret", &format!("{client}-secret")),
                ("resource", resource),
                ("scope", scope),
            ])
            .unwrap_or_else(|e| panic!("token for {client}: {e}"))
            .into_json()
            .unwrap();
        answer["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no access token in {answer}"))
            .to_string()
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Provider {
    /// Registers a confidential client for the authorization code flow that sends people
    /// back to `redirect_uri` (dynamic client registration); answers its id and secret.
    pub fn register_client(
        &self,
        redirect_uris: &[String],
        post_logout: &[String],
    ) -> (String, String) {
        let answer: Value = ureq::post(&format!("{}/reg", self.issuer))
            .send_json(serde_json::json!({
                "redirect_uris": redirect_uris,
                "post_logout_redirect_uris": post_logout,
                "grant_types": ["authorization_code"],
                "response_types": ["code"],
                "token_endpoint_auth_method": "client_secret_basic",
                "scope": "openid email profile groups",
            }))
            .unwrap_or_else(|e| panic!("registering a client: {e}"))
            .into_json()
            .unwrap();
        (
            answer["client_id"].as_str().unwrap().to_string(),
            answer["client_secret"].as_str().unwrap().to_string(),
        )
    }
}
