//! A sign-in in progress: what the identity provider's answer must match (state, nonce,
//! PKCE verifier, or the SAML request id) and where the person goes afterwards. Stored in
//! the server scope so the answer may reach any host of a team, and taken once: a second
//! answer to the same sign-in finds nothing.

use serde::{Deserialize, Serialize};

/// The server-scope collection of sign-ins in progress.
pub const COLLECTION: &str = "sso_logins";

/// The cookie binding a browser to the OpenID Connect sign-in it started, so an answer
/// planted in another browser (login CSRF) is refused.
pub const COOKIE: &str = "marcus_login";

/// How long a person has to finish signing in at the provider.
pub const LIFETIME_MS: u64 = 10 * 60 * 1000;

/// A sign-in in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginState {
    /// The document id: the digest of the OpenID Connect `state` or of the SAML `RelayState`.
    pub id: String,
    /// The tenant whose provider was asked.
    pub tenant: String,
    /// `oidc` or `saml`.
    pub protocol: String,
    /// The PKCE verifier (OpenID Connect).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pkce_verifier: Option<String>,
    /// The nonce the ID token must carry (OpenID Connect).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// The id of the AuthnRequest the response must answer (SAML).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The local path to land on after signing in.
    pub return_to: String,
    /// Started at (ms).
    pub created_at: u64,
    /// Abandoned after (ms).
    pub expires_at: u64,
}

/// `path` when it is a path on this server (`/…`, not `//host` or a URL), else `/`: the
/// return address comes from the browser and must not send anyone elsewhere.
pub fn local_return_path(path: Option<&str>) -> String {
    match path {
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("//")
                && !p.contains('\\')
                && !p.chars().any(char::is_control) =>
        {
            p.to_string()
        }
        _ => "/".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_returned_to() {
        assert_eq!(local_return_path(Some("/#project=p1")), "/#project=p1");
        assert_eq!(local_return_path(Some("//evil.example/")), "/");
        assert_eq!(local_return_path(Some("https://evil.example/")), "/");
        assert_eq!(local_return_path(Some("/\\evil.example")), "/");
        assert_eq!(local_return_path(Some("/a\nb")), "/");
        assert_eq!(local_return_path(None), "/");
    }
}
