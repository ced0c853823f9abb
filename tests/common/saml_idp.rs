//! Debian's SimpleSAMLphp as a real SAML 2.0 identity provider on loopback
//! (tests/saml/start-idp.sh says what it offers), and the browser's side of its login:
//! the form filled and the response it posts back captured.

use super::browserless::{Browserless, origin};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// Whether SimpleSAMLphp and PHP are installed; reports the skip otherwise.
pub fn ready(suite: &str) -> bool {
    let ok = Path::new("/usr/share/simplesamlphp/www").is_dir()
        && Command::new("php")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
    if !ok {
        super::team::skip(
            suite,
            "SimpleSAMLphp and PHP (apt-get install --no-install-recommends simplesamlphp php-cli php-xml php-curl php-mbstring xmlsec1)",
        );
    }
    ok
}

/// A running identity provider that knows one service provider; stopped when dropped.
pub struct Idp {
    child: Child,
    _dir: tempfile::TempDir,
    /// Its metadata URL, which is also its entity id.
    pub metadata_url: String,
}

impl Idp {
    /// Starts an identity provider (its own key) for the service provider `sp_entity_id`
    /// answering at `acs_url`, in `mode` (`signed`, `expired`, `unsigned`, …).
    pub fn start(sp_entity_id: &str, acs_url: &str, mode: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/saml/start-idp.sh");
        let mut child = Command::new("bash")
            .arg(script)
            .arg(dir.path())
            .arg(port.to_string())
            .arg(sp_entity_id)
            .arg(acs_url)
            .arg(mode)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting start-idp.sh");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let metadata_url = line
            .trim()
            .strip_prefix("ready ")
            .unwrap_or_else(|| panic!("the identity provider printed {line:?}"))
            .to_string();
        Self {
            child,
            _dir: dir,
            metadata_url,
        }
    }

    /// Its origin (`http://127.0.0.1:PORT`).
    pub fn origin(&self) -> String {
        origin(&self.metadata_url)
    }

    /// The IdP-initiated sign-in URL for `sp_entity_id`.
    pub fn initiate_url(&self, sp_entity_id: &str) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("spentityid", sp_entity_id);
        format!("{}/saml2/idp/SSOService.php?{}", self.origin(), q.finish())
    }
}

impl Drop for Idp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the provider's page posts back to the service provider.
#[derive(Debug, Clone)]
pub struct SamlPost {
    /// Where it posts (the ACS URL).
    pub action: String,
    /// The base64 response.
    pub saml_response: String,
    /// The relay state, when there is one.
    pub relay_state: Option<String>,
}

impl SamlPost {
    /// The form fields.
    pub fn fields(&self) -> Vec<(&str, &str)> {
        let mut fields = vec![("SAMLResponse", self.saml_response.as_str())];
        if let Some(relay) = &self.relay_state {
            fields.push(("RelayState", relay.as_str()));
        }
        fields
    }
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#039;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The value of the form field `name` in `page`.
fn field(page: &str, name: &str) -> Option<String> {
    let at = page.find(&format!("name=\"{name}\""))?;
    let tag_start = page[..at].rfind('<')?;
    let tag_end = at + page[at..].find('>')?;
    let tag = &page[tag_start..tag_end];
    let value = tag.split("value=\"").nth(1)?.split('"').next()?;
    Some(unescape(value))
}

/// The `action` of the form holding field `name`.
fn action_of(page: &str, name: &str) -> Option<String> {
    let at = page.find(&format!("name=\"{name}\""))?;
    let form = page[..at].rfind("<form")?;
    let action = page[form..].split("action=\"").nth(1)?.split('"').next()?;
    Some(unescape(action))
}

/// Follows `url` through the provider as a browser would (signing in as `user` when its
/// form asks), up to the form that posts the response back; `None` when the provider kept
/// its login form (a wrong password).
pub fn sign_in(b: &mut Browserless, url: &str, user: &str, password: &str) -> Option<SamlPost> {
    let mut next = url.to_string();
    let mut posted = false;
    for _ in 0..15 {
        let hop = b.get(&next);
        let page = match hop.status {
            300..=399 => {
                next = hop.location.clone().expect("a redirect");
                continue;
            }
            _ => hop.body,
        };
        let mut page = page;
        let mut here = next.clone();
        if page.contains("name=\"AuthState\"") && page.contains("name=\"password\"") {
            if posted {
                return None;
            }
            let action = action_of(&page, "password").unwrap_or_default();
            let target = if action.starts_with("http") {
                action
            } else if action.starts_with('/') {
                format!("{}{action}", origin(&here))
            } else if action.starts_with('?') {
                format!("{}{action}", here.split('?').next().unwrap())
            } else {
                let base = here.split('?').next().unwrap();
                format!("{}/{action}", base.rsplit_once('/').unwrap().0)
            };
            let state = field(&page, "AuthState").expect("AuthState");
            let answer = b.post_form(
                &target,
                &[
                    ("username", user),
                    ("password", password),
                    ("AuthState", &state),
                ],
            );
            posted = true;
            here = target;
            page = answer.body;
            if let Some(location) = answer.location {
                next = location;
                continue;
            }
            if page.contains("name=\"password\"") && !page.contains("SAMLResponse") {
                return None;
            }
        }
        let _ = here;
        if let Some(response) = field(&page, "SAMLResponse") {
            return Some(SamlPost {
                action: action_of(&page, "SAMLResponse").expect("the post's action"),
                saml_response: response,
                relay_state: field(&page, "RelayState").filter(|r| !r.is_empty()),
            });
        }
        panic!(
            "unexpected page at {next}: {}",
            &page[..page.len().min(600)]
        );
    }
    panic!("the sign-in went round in circles at {next}");
}
