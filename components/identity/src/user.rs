//! A person of a tenant, as stored: made and kept up to date by the organisation's identity
//! provider over SCIM, and found again by single sign-on logins through the provider accounts
//! bound to it. Storage keeps the record's version; the record itself carries none.

use serde::{Deserialize, Serialize};

/// The storage collection of user records.
pub const COLLECTION: &str = "users";

/// A stored user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    /// Opaque random id made by the caller; the SCIM `id`, stable for the user's life.
    pub id: String,
    /// The tenant the user belongs to; users are never shared between tenants.
    pub tenant: String,
    /// The login name, unique within the tenant and compared case-insensitively
    /// (see [`same_user_name`]).
    pub user_name: String,
    /// The identity provider's own id for the user, so it can find its user again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// The name shown to people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Given name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    /// Family name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    /// Email addresses, at most one of them primary.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<Email>,
    /// Whether the user may sign in; identity providers deactivate rather than delete.
    pub active: bool,
    /// Identity-provider accounts bound to the user, by which logins find it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<SsoLink>,
    /// When it was made (ms since the epoch).
    pub created_at: u64,
    /// When it last changed (ms since the epoch).
    pub updated_at: u64,
    /// When its person last signed in (ms since the epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_login_at: Option<u64>,
}

/// One email address of a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email {
    /// The address.
    pub value: String,
    /// What it is for (`work`, `home`, `other`, or a provider's own word).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Whether it is the preferred address.
    #[serde(default)]
    pub primary: bool,
}

/// An account at an identity provider bound to a user: a login presenting this issuer and
/// subject is this user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoLink {
    /// The single sign-on protocol: `oidc` or `saml`.
    pub protocol: String,
    /// The provider: an OIDC issuer URL or a SAML entity id.
    pub issuer: String,
    /// The provider's subject (`sub` claim or SAML `NameID`).
    pub subject: String,
}

impl UserRecord {
    /// A new active user with nothing but its name, as a login that provisions on first
    /// sight makes it.
    pub fn new(id: &str, tenant: &str, user_name: &str, now_ms: u64) -> Self {
        Self {
            id: id.into(),
            tenant: tenant.into(),
            user_name: user_name.into(),
            external_id: None,
            display_name: None,
            given_name: None,
            family_name: None,
            emails: Vec::new(),
            active: true,
            links: Vec::new(),
            created_at: now_ms,
            updated_at: now_ms,
            last_login_at: None,
        }
    }

    /// Whether a login from this provider account is this user.
    pub fn has_link(&self, protocol: &str, issuer: &str, subject: &str) -> bool {
        self.links
            .iter()
            .any(|l| l.protocol == protocol && l.issuer == issuer && l.subject == subject)
    }

    /// The primary email, else the first one: where to write to the user.
    pub fn primary_email(&self) -> Option<&str> {
        self.emails
            .iter()
            .find(|e| e.primary)
            .or_else(|| self.emails.first())
            .map(|e| e.value.as_str())
    }
}

/// Whether two user names are the same name: SCIM makes `userName` case-insensitive
/// (RFC 7643 §4.1.1), so `BJensen` and `bjensen` may not both exist in one tenant.
pub fn same_user_name(a: &str, b: &str) -> bool {
    user_name_key(a) == user_name_key(b)
}

/// The form of a user name to index and look up by, so that names differing only in case
/// meet.
pub fn user_name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// The tenant-scope index from an identity-provider account to its user (document id:
/// [`link_key`]), so a sign-in finds its user in one read.
pub const LINKS_COLLECTION: &str = "user_links";

/// The tenant-scope index from a user name (as [`user_name_key`] folds it) to its user,
/// which keeps user names unique per tenant even when two hosts create the same one at
/// once.
pub const NAMES_COLLECTION: &str = "user_names";

/// The document id of `link` in [`LINKS_COLLECTION`].
pub fn link_key(link: &SsoLink) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    for part in [&link.protocol, &link.issuer, &link.subject] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part.as_bytes());
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_json_skips_absent_fields_and_names_the_email_type() {
        let mut u = UserRecord::new("u1", "acme", "bjensen", 5);
        u.emails.push(Email {
            value: "b@example.com".into(),
            kind: Some("work".into()),
            primary: true,
        });
        let v = serde_json::to_value(&u).unwrap();
        assert_eq!(v["emails"][0]["type"], "work");
        assert!(v.get("external_id").is_none());
        assert!(v.get("links").is_none());
        assert!(v.get("version").is_none());
        let back: UserRecord = serde_json::from_value(v).unwrap();
        assert_eq!(back, u);
    }

    #[test]
    fn user_names_compare_without_case() {
        assert!(same_user_name("BJensen@Example.com", "bjensen@example.com"));
        assert!(!same_user_name("bjensen", "bjensen2"));
        assert_eq!(user_name_key(" ÉMILE "), "émile");
    }

    #[test]
    fn links_and_primary_email() {
        let mut u = UserRecord::new("u1", "acme", "b", 0);
        assert_eq!(u.primary_email(), None);
        u.links.push(SsoLink {
            protocol: "oidc".into(),
            issuer: "https://idp".into(),
            subject: "s1".into(),
        });
        assert!(u.has_link("oidc", "https://idp", "s1"));
        assert!(!u.has_link("saml", "https://idp", "s1"));
        u.emails = vec![
            Email {
                value: "a@x".into(),
                kind: None,
                primary: false,
            },
            Email {
                value: "b@x".into(),
                kind: None,
                primary: true,
            },
        ];
        assert_eq!(u.primary_email(), Some("b@x"));
    }
}
