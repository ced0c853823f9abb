//! Browser sessions of people who signed in through their organisation's identity provider.
//! The session lives in storage (any host of a team accepts it); the browser holds only a
//! random secret in an `HttpOnly` cookie, and storage holds only that secret's SHA-256
//! digest, so a read of the store does not yield working cookies.

use crate::principal::{Kind, Principal, Role, Verification};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The server-scope collection of sessions; the document id is the secret's digest.
pub const COLLECTION: &str = "sessions";

/// The session cookie's name.
pub const COOKIE: &str = "marcus_session";

/// The header a browser sends the session's CSRF token in on every state-changing request.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// How long a session lasts from sign-in (8 hours: a working day).
pub const LIFETIME_MS: u64 = 8 * 3600 * 1000;

/// A stored session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    /// The digest of the cookie's secret (the document id).
    pub id: String,
    /// The tenant the person signed in to.
    pub tenant: String,
    /// The user record's id.
    pub user_id: String,
    /// The person's user name, as principals and logs name them.
    pub user_name: String,
    /// The role their groups granted at sign-in.
    pub role: Role,
    /// `oidc` or `saml`.
    pub protocol: String,
    /// The token state-changing requests must echo in [`CSRF_HEADER`].
    pub csrf_token: String,
    /// Signed in at (ms).
    pub created_at: u64,
    /// Expires at (ms).
    pub expires_at: u64,
    /// The ID token, kept to tell the provider who signs out (OpenID Connect only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token_hint: Option<String>,
}

impl SessionRecord {
    /// The principal of a request that presents this session.
    pub fn principal(&self) -> Principal {
        Principal {
            tenant: self.tenant.clone(),
            subject: self.user_name.clone(),
            kind: Kind::User,
            role: self.role,
            scopes: Vec::new(),
            verified_by: Verification::Session,
            agent_ids: Vec::new(),
            credential_id: None,
        }
    }

    /// Whether the session still holds at `now_ms`.
    pub fn live(&self, now_ms: u64) -> bool {
        now_ms < self.expires_at
    }

    /// Whether `presented` is this session's CSRF token (compared in constant time).
    pub fn csrf_matches(&self, presented: &str) -> bool {
        use subtle::ConstantTimeEq;
        let (a, b) = (self.csrf_token.as_bytes(), presented.as_bytes());
        a.len() == b.len() && bool::from(a.ct_eq(b))
    }
}

/// The document id of the session whose cookie carries `secret`.
pub fn digest(secret: &str) -> String {
    let hash = Sha256::digest(secret.as_bytes());
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether a method changes state (and so needs the CSRF token).
pub fn changes_state(method: &str) -> bool {
    !matches!(method, "GET" | "HEAD" | "OPTIONS")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> SessionRecord {
        SessionRecord {
            id: digest("s"),
            tenant: "acme".into(),
            user_id: "u1".into(),
            user_name: "alice".into(),
            role: Role::Admin,
            protocol: "oidc".into(),
            csrf_token: "c".repeat(43),
            created_at: 1,
            expires_at: 100,
            id_token_hint: None,
        }
    }

    #[test]
    fn a_session_is_a_person_in_its_tenant_until_it_expires() {
        let r = record();
        let p = r.principal();
        assert_eq!(
            (p.tenant.as_str(), p.role, p.kind),
            ("acme", Role::Admin, Kind::User)
        );
        assert_eq!(p.verified_by, Verification::Session);
        assert!(r.live(99));
        assert!(!r.live(100));
    }

    #[test]
    fn csrf_tokens_must_match_exactly() {
        let r = record();
        assert!(r.csrf_matches(&"c".repeat(43)));
        assert!(!r.csrf_matches(&"c".repeat(42)));
        assert!(!r.csrf_matches(""));
        assert!(!r.csrf_matches(&"d".repeat(43)));
    }

    #[test]
    fn digests_hide_the_secret_and_are_stable() {
        assert_eq!(digest("abc").len(), 64);
        assert_eq!(digest("abc"), digest("abc"));
        assert_ne!(digest("abc"), digest("abd"));
        assert!(changes_state("POST") && changes_state("DELETE"));
        assert!(!changes_state("GET"));
    }
}
