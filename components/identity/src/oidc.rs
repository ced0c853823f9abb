//! Access tokens issued by an OpenID Connect provider, for MCP clients that sign in through
//! the organisation's provider instead of holding a Marcus token (MCP authorization,
//! specification 2025-11-25). The host fetches the provider's key set; this module checks a
//! token against it (signature, issuer, audience, expiry) and maps its claims to a principal
//! by configuration, so the same rules hold wherever a token is verified.

use crate::principal::{DEFAULT_TENANT, Kind, Principal, Role, Verification};
use crate::role_map::{self, claim_values};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind};
use serde_json::Value;

/// A provider's published keys (its `jwks_uri` document).
pub use jsonwebtoken::jwk::JwkSet;

/// Seconds of clock difference tolerated between the provider and this server.
pub const CLOCK_LEEWAY_S: u64 = 5;

/// The asymmetric algorithms accepted; a token signed with a shared secret (`HS*`) or none
/// is refused, whatever its header says.
const ALGORITHMS: [Algorithm; 7] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// The claim to role mapping when none is configured: scopes named after the roles.
pub const DEFAULT_ROLE_MAP: &str =
    "marcus:admin=admin,marcus:member=member,marcus:agent=agent,marcus:viewer=viewer";

/// Which provider this server trusts and how its tokens' claims become a principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcSettings {
    /// The provider's issuer URL, exactly as its tokens' `iss` claim carries it.
    pub issuer: String,
    /// The audience tokens must name: this server's MCP URL unless configured otherwise.
    pub audience: String,
    /// The claim whose values grant roles (`scope`, a space-separated string, by default;
    /// a `groups`-like array works as well).
    pub role_claim: String,
    /// Claim value to role; the most powerful role a token's values grant wins.
    pub role_map: Vec<(String, Role)>,
    /// The claim naming the agent id an agent-role token acts as (`sub` by default).
    pub agent_claim: String,
}

impl OidcSettings {
    /// Parses `value=role,…` (for example `acme:admin=admin,acme:dev=member`).
    pub fn parse_role_map(spec: &str) -> Result<Vec<(String, Role)>, String> {
        crate::role_map::parse(spec)
    }

    /// The claim values that grant a role, as the protected resource metadata advertises
    /// them (`scopes_supported`) when roles come from scopes.
    pub fn role_values(&self) -> Vec<String> {
        self.role_map.iter().map(|(v, _)| v.clone()).collect()
    }
}

/// Why a provider's token was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OidcRejected {
    /// Not a signed JWT this server accepts (shape, algorithm, header).
    Malformed(String),
    /// Signed with a key the provider's key set does not hold (after a refetch).
    UnknownKey(String),
    /// The signature does not verify.
    BadSignature,
    /// Issued by another provider.
    WrongIssuer,
    /// Issued for another resource.
    WrongAudience,
    /// Past its `exp` (or before its `nbf`).
    Expired,
    /// Valid, but none of its claim values grants a role here: the client must ask the
    /// provider for more (`insufficient_scope`).
    NoRole,
}

impl OidcRejected {
    /// The OAuth error code of a `WWW-Authenticate` challenge (RFC 6750).
    pub fn error_code(&self) -> &'static str {
        match self {
            OidcRejected::NoRole => "insufficient_scope",
            _ => "invalid_token",
        }
    }
}

impl std::fmt::Display for OidcRejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OidcRejected::Malformed(why) => write!(f, "the access token is not valid: {why}"),
            OidcRejected::UnknownKey(kid) => write!(
                f,
                "the access token is signed with a key the issuer does not publish ({kid})"
            ),
            OidcRejected::BadSignature => f.write_str("the access token's signature is not valid"),
            OidcRejected::WrongIssuer => {
                f.write_str("the access token was issued by an issuer this server does not trust")
            }
            OidcRejected::WrongAudience => {
                f.write_str("the access token was issued for another resource (audience)")
            }
            OidcRejected::Expired => f.write_str("the access token has expired"),
            OidcRejected::NoRole => f.write_str(
                "the access token grants no role on this server: ask the provider for one of the scopes in the protected resource metadata",
            ),
        }
    }
}

/// Whether a bearer value has a JWT's shape (three base64url parts); Marcus tokens do not.
pub fn looks_like_jwt(value: &str) -> bool {
    value.split('.').count() == 3
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// The key id a token names in its header, so the caller knows whether its key set is
/// current before verifying.
pub fn key_id(token: &str) -> Result<String, OidcRejected> {
    signing(token).map(|(kid, _)| kid)
}

/// The key id and algorithm a token's header names, refused unless the algorithm is one
/// of [`ALGORITHMS`].
fn signing(token: &str) -> Result<(String, Algorithm), OidcRejected> {
    let header =
        jsonwebtoken::decode_header(token).map_err(|e| OidcRejected::Malformed(e.to_string()))?;
    if !ALGORITHMS.contains(&header.alg) {
        return Err(OidcRejected::Malformed(format!(
            "the {:?} algorithm is not accepted",
            header.alg
        )));
    }
    let kid = header
        .kid
        .ok_or_else(|| OidcRejected::Malformed("the header names no key (kid)".into()))?;
    Ok((kid, header.alg))
}

/// Verifies `token` against the provider's `keys` and maps its claims to a principal.
pub fn verify(
    settings: &OidcSettings,
    token: &str,
    keys: &JwkSet,
) -> Result<Principal, OidcRejected> {
    let (kid, alg) = signing(token)?;
    let jwk = keys.find(&kid).ok_or(OidcRejected::UnknownKey(kid))?;
    // A key published for one algorithm verifies only that one.
    if jwk
        .common
        .key_algorithm
        .is_some_and(|published| published.to_string() != format!("{alg:?}"))
    {
        return Err(OidcRejected::Malformed(
            "the token's algorithm is not its key's".into(),
        ));
    }
    let key = DecodingKey::from_jwk(jwk)
        .map_err(|e| OidcRejected::Malformed(format!("the issuer's key is unusable: {e}")))?;
    let mut validation = Validation::new(alg);
    validation.leeway = CLOCK_LEEWAY_S;
    validation.validate_nbf = true;
    validation.set_issuer(&[&settings.issuer]);
    validation.set_audience(&[&settings.audience]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    let claims = jsonwebtoken::decode::<Value>(token, &key, &validation)
        .map_err(|e| match e.kind() {
            ErrorKind::InvalidSignature => OidcRejected::BadSignature,
            ErrorKind::InvalidIssuer => OidcRejected::WrongIssuer,
            ErrorKind::InvalidAudience => OidcRejected::WrongAudience,
            ErrorKind::ExpiredSignature | ErrorKind::ImmatureSignature => OidcRejected::Expired,
            _ => OidcRejected::Malformed(e.to_string()),
        })?
        .claims;
    principal(settings, &claims)
}

/// The principal a verified token's claims describe.
fn principal(settings: &OidcSettings, claims: &Value) -> Result<Principal, OidcRejected> {
    let subject = claims
        .get("sub")
        .and_then(Value::as_str)
        .ok_or_else(|| OidcRejected::Malformed("the token has no subject".into()))?
        .to_string();
    let values = claim_values(claims.get(&settings.role_claim));
    let role = role_map::granted(&settings.role_map, &values).ok_or(OidcRejected::NoRole)?;
    let agent_ids = match role {
        Role::Agent => {
            let ids = claim_values(claims.get(&settings.agent_claim));
            if ids.is_empty() {
                return Err(OidcRejected::Malformed(format!(
                    "an agent token needs the {} claim naming its agent id",
                    settings.agent_claim
                )));
            }
            ids
        }
        _ => Vec::new(),
    };
    // A token a client got for itself (client credentials) names the client as its subject.
    let own_client = claims.get("client_id").and_then(Value::as_str) == Some(subject.as_str());
    let kind = match role {
        Role::Agent => Kind::Agent,
        _ if own_client => Kind::Service,
        _ => Kind::User,
    };
    Ok(Principal {
        tenant: DEFAULT_TENANT.into(),
        subject,
        kind,
        role,
        scopes: claim_values(claims.get("scope")),
        verified_by: Verification::Oidc,
        agent_ids,
        credential_id: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn settings() -> OidcSettings {
        OidcSettings {
            issuer: "https://id.example".into(),
            audience: "https://marcus.example/mcp".into(),
            role_claim: "scope".into(),
            role_map: OidcSettings::parse_role_map(DEFAULT_ROLE_MAP).unwrap(),
            agent_claim: "sub".into(),
        }
    }

    #[test]
    fn role_maps_parse_and_refuse_nonsense() {
        assert_eq!(
            OidcSettings::parse_role_map("acme:admin=admin, acme:dev=member").unwrap(),
            vec![
                ("acme:admin".to_string(), Role::Admin),
                ("acme:dev".to_string(), Role::Member)
            ]
        );
        assert!(OidcSettings::parse_role_map("acme").is_err());
        assert!(OidcSettings::parse_role_map("acme=owner").is_err());
        assert!(OidcSettings::parse_role_map(" , ").is_err());
        assert!(OidcSettings::parse_role_map("=admin").is_err());
    }

    #[test]
    fn claims_grant_the_most_powerful_mapped_role() {
        let s = settings();
        let p = principal(
            &s,
            &json!({"sub": "alice", "scope": "openid marcus:viewer marcus:member"}),
        )
        .unwrap();
        assert_eq!((p.role, p.kind), (Role::Member, Kind::User));
        assert_eq!(p.verified_by, Verification::Oidc);
        assert!(p.agent_ids.is_empty());

        let agent = principal(
            &s,
            &json!({"sub": "a1", "client_id": "a1", "scope": "marcus:agent"}),
        )
        .unwrap();
        assert_eq!((agent.role, agent.kind), (Role::Agent, Kind::Agent));
        assert_eq!(agent.agent_ids, vec!["a1".to_string()]);

        let service = principal(
            &s,
            &json!({"sub": "ci", "client_id": "ci", "scope": "marcus:viewer"}),
        )
        .unwrap();
        assert_eq!(service.kind, Kind::Service);

        assert_eq!(
            principal(&s, &json!({"sub": "x", "scope": "openid email"})),
            Err(OidcRejected::NoRole)
        );
        let groups = OidcSettings {
            role_claim: "groups".into(),
            role_map: OidcSettings::parse_role_map("acme:admin=admin").unwrap(),
            ..s
        };
        assert_eq!(
            principal(&groups, &json!({"sub": "x", "groups": ["acme:admin"]}))
                .unwrap()
                .role,
            Role::Admin
        );
    }

    #[test]
    fn only_signed_jwts_with_a_key_id_are_considered() {
        assert!(looks_like_jwt("aGVhZA.Ym9keQ.c2ln"));
        assert!(!looks_like_jwt("mcs_abc"));
        assert!(!looks_like_jwt("a.b"));
        assert!(!looks_like_jwt("a b.c.d"));
        // {"alg":"none"} and {"alg":"HS256","kid":"k"}: refused before any key is looked up.
        let none = "eyJhbGciOiJub25lIn0.e30.";
        assert!(matches!(key_id(none), Err(OidcRejected::Malformed(_))));
        let hs = "eyJhbGciOiJIUzI1NiIsImtpZCI6ImsifQ.e30.c2ln";
        assert!(matches!(key_id(hs), Err(OidcRejected::Malformed(_))));
        assert!(matches!(
            verify(&settings(), hs, &JwkSet { keys: vec![] }),
            Err(OidcRejected::Malformed(_))
        ));
    }
}
