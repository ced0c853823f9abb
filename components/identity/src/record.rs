//! A token as stored: everything about it but the token, which exists only in the answer
//! that created it and in its holder's hands. The record is found by the token's lookup
//! part and accepted only when the keyed digest matches, in constant time.

use crate::digest::ServerSecret;
use crate::principal::{DEFAULT_TENANT, Kind, Principal, Role, Verification};
use crate::token::Token;
use serde::{Deserialize, Serialize};

/// The storage collection of token records.
pub const COLLECTION: &str = "auth_tokens";
/// The storage collection of the installation's authentication settings.
pub const SETTINGS_COLLECTION: &str = "auth_settings";
/// The settings document holding the token secret (`{"secret": hex}`).
pub const SECRET_ID: &str = "token_secret";
/// The `WWW-Authenticate` challenge of every `401`: what a client must send.
pub const CHALLENGE: &str = "Bearer realm=\"marcus\"";
/// How often, at most, a token's last use is written back (a busy agent would otherwise
/// write on every request).
pub const LAST_USE_EVERY_MS: u64 = 30_000;

/// A token's stored record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// The token's lookup part, also the record's id.
    pub id: String,
    /// A name for people (`ci`, `laptop`).
    pub name: String,
    /// HMAC-SHA-256 of the token under the server secret, hex.
    pub digest: String,
    /// Its role.
    pub role: Role,
    /// Who holds it.
    pub kind: Kind,
    /// The agent ids an agent token may act as.
    #[serde(default)]
    pub agent_ids: Vec<String>,
    /// Its tenant.
    #[serde(default = "default_tenant")]
    pub tenant: String,
    /// Whether it administers the installation (tenants, every tenant's tokens) besides
    /// its tenant.
    #[serde(default)]
    pub server_admin: bool,
    /// When it was made (ms since the epoch).
    pub created_at: u64,
    /// When it stops working.
    pub expires_at: u64,
    /// When it was last presented, to within [`LAST_USE_EVERY_MS`].
    #[serde(default)]
    pub last_used_at: Option<u64>,
    /// When it was revoked.
    #[serde(default)]
    pub revoked_at: Option<u64>,
    /// The user name of the signed-in person who made it, so that their deactivation (by
    /// their organisation's provisioning) revokes it too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

fn default_tenant() -> String {
    DEFAULT_TENANT.into()
}

/// Why a presented token was not accepted (the request is answered `401`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejected {
    /// None was sent where credentials are required.
    Missing,
    /// Not a Marcus token at all, or mistyped.
    Malformed(String),
    /// No record matches it.
    Unknown,
    /// Its record says it was revoked.
    Revoked,
    /// Its lifetime is over.
    Expired,
    /// Its tenant is disabled or no longer exists.
    TenantUnavailable(String),
}

impl std::fmt::Display for Rejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rejected::Missing => f.write_str(
                "this request needs credentials: send Authorization: Bearer <token> (marcus token create makes one)",
            ),
            Rejected::Malformed(why) => write!(f, "the bearer token is not valid: {why}"),
            Rejected::Unknown => f.write_str("the bearer token is not valid: no such token"),
            Rejected::Revoked => f.write_str("the bearer token was revoked"),
            Rejected::Expired => f.write_str("the bearer token has expired"),
            Rejected::TenantUnavailable(why) => write!(f, "the bearer token's {why}"),
        }
    }
}

impl TokenRecord {
    /// A new record for `token`, made at `now` for `lifetime_ms`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        token: &Token,
        secret: &ServerSecret,
        name: &str,
        role: Role,
        agent_ids: Vec<String>,
        now: u64,
        lifetime_ms: u64,
    ) -> Self {
        Self {
            id: token.lookup().to_string(),
            name: name.to_string(),
            digest: secret.digest(token),
            role,
            kind: if role == Role::Agent {
                Kind::Agent
            } else {
                Kind::Service
            },
            agent_ids,
            tenant: DEFAULT_TENANT.into(),
            server_admin: false,
            created_at: now,
            expires_at: now.saturating_add(lifetime_ms),
            last_used_at: None,
            revoked_at: None,
            owner: None,
        }
    }

    /// The principal `token` stands for, when this record (found by its lookup part) is
    /// its record and it may still be used at `now`.
    pub fn verify(
        &self,
        token: &Token,
        secret: &ServerSecret,
        now: u64,
    ) -> Result<Principal, Rejected> {
        if !secret.matches(token, &self.digest) {
            return Err(Rejected::Unknown);
        }
        if self.revoked_at.is_some() {
            return Err(Rejected::Revoked);
        }
        if now >= self.expires_at {
            return Err(Rejected::Expired);
        }
        Ok(Principal {
            tenant: self.tenant.clone(),
            subject: self.name.clone(),
            kind: self.kind,
            role: self.role,
            scopes: if self.server_admin {
                vec![crate::tenant::SERVER_ADMIN_SCOPE.to_string()]
            } else {
                Vec::new()
            },
            verified_by: Verification::Token,
            agent_ids: self.agent_ids.clone(),
            credential_id: Some(self.id.clone()),
        })
    }

    /// `active`, `expired` or `revoked` at `now`, as listings show it.
    pub fn state(&self, now: u64) -> &'static str {
        if self.revoked_at.is_some() {
            "revoked"
        } else if self.expires_at <= now {
            "expired"
        } else {
            "active"
        }
    }

    /// Whether a use at `now` should be written back (see [`LAST_USE_EVERY_MS`]).
    pub fn last_use_due(&self, now: u64) -> bool {
        self.last_used_at
            .is_none_or(|last| now.saturating_sub(last) >= LAST_USE_EVERY_MS)
    }
}

/// Reads a presented `Authorization` header value: `Bearer <token>`.
pub fn bearer(header: &str) -> Result<Token, Rejected> {
    Token::parse(bearer_value(header)?).map_err(|e| Rejected::Malformed(e.to_string()))
}

/// The credential of an `Authorization: Bearer <credential>` header, whatever its kind (a
/// Marcus token, an identity provider's access token).
pub fn bearer_value(header: &str) -> Result<&str, Rejected> {
    let (scheme, value) = header
        .trim()
        .split_once(' ')
        .ok_or_else(|| Rejected::Malformed("send Authorization: Bearer <token>".into()))?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(Rejected::Malformed(format!(
            "the {scheme} scheme is not accepted; send Authorization: Bearer <token>"
        )));
    }
    Ok(value.trim())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::SECRET_BYTES;

    fn token(seed: u8) -> Token {
        Token::from_random(
            &(0..64u8)
                .map(|i| i.wrapping_mul(29).wrapping_add(seed))
                .collect::<Vec<_>>(),
        )
        .unwrap()
    }

    #[test]
    fn a_record_accepts_its_token_until_it_expires_or_is_revoked() {
        let secret = ServerSecret::from_bytes([3; SECRET_BYTES]);
        let t = token(1);
        let record = TokenRecord::new(
            &t,
            &secret,
            "ci",
            Role::Agent,
            vec!["a1".into()],
            1_000,
            60_000,
        );
        assert_eq!(record.id, t.lookup());
        let json = serde_json::to_string(&record).unwrap();
        assert!(
            !json.contains(t.reveal()),
            "the record never holds the token: {json}"
        );
        let p = record.verify(&t, &secret, 1_000).unwrap();
        assert_eq!(
            (p.role, p.kind, p.agent_ids.clone()),
            (Role::Agent, Kind::Agent, vec!["a1".to_string()])
        );
        assert_eq!(p.verified_by, Verification::Token);
        assert_eq!(record.verify(&t, &secret, 61_000), Err(Rejected::Expired));
        assert_eq!(
            record.verify(&token(2), &secret, 1_000),
            Err(Rejected::Unknown)
        );
        let other_secret = ServerSecret::from_bytes([4; SECRET_BYTES]);
        assert_eq!(
            record.verify(&t, &other_secret, 1_000),
            Err(Rejected::Unknown)
        );
        let revoked = TokenRecord {
            revoked_at: Some(2_000),
            ..record.clone()
        };
        assert_eq!(revoked.verify(&t, &secret, 3_000), Err(Rejected::Revoked));
    }

    #[test]
    fn last_use_is_written_at_most_every_thirty_seconds() {
        let secret = ServerSecret::from_bytes([3; SECRET_BYTES]);
        let mut r = TokenRecord::new(&token(1), &secret, "x", Role::Viewer, vec![], 0, 60_000);
        assert!(r.last_use_due(5));
        r.last_used_at = Some(5);
        assert!(!r.last_use_due(29_999));
        assert!(r.last_use_due(30_005));
    }

    #[test]
    fn only_a_bearer_header_with_a_well_formed_token_is_read() {
        let t = token(9);
        assert_eq!(bearer(&format!("Bearer {}", t.reveal())).unwrap(), t);
        assert_eq!(bearer(&format!("bearer  {} ", t.reveal())).unwrap(), t);
        assert!(
            matches!(bearer(&format!("Basic {}", t.reveal())), Err(Rejected::Malformed(m)) if m.contains("Basic"))
        );
        assert!(matches!(bearer("Bearer"), Err(Rejected::Malformed(_))));
        assert!(matches!(
            bearer("Bearer mcs_nope"),
            Err(Rejected::Malformed(_))
        ));
    }
}
