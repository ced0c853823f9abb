//! A tenant's single sign-on settings: which OpenID Connect provider and which SAML
//! identity provider its people sign in with, and how their groups become roles. Stored in
//! the server scope, one record per tenant, so a login can only ever end in the tenant whose
//! provider vouched for it.

use crate::principal::Role;
use serde::{Deserialize, Serialize};

/// The server-scope collection of bindings; the document id is the tenant's name.
pub const COLLECTION: &str = "sso";

/// The claim or attribute read for roles when none is configured.
pub const DEFAULT_ROLE_CLAIM: &str = "groups";

/// One tenant's identity providers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoBinding {
    /// The tenant whose people sign in this way.
    pub tenant: String,
    /// Its OpenID Connect provider, when one is bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc: Option<OidcBinding>,
    /// Its SAML identity provider, when one is bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saml: Option<SamlBinding>,
    /// When it last changed (ms).
    pub updated_at: u64,
}

/// An OpenID Connect provider and this installation's client at it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OidcBinding {
    /// The issuer, exactly as its ID tokens' `iss` claim carries it.
    pub issuer: String,
    /// The client id registered at the provider.
    pub client_id: String,
    /// The client secret (never shown back, never logged).
    pub client_secret: String,
    /// The ID token claim whose values grant roles.
    pub role_claim: String,
    /// `value=role,…`, as [`crate::role_map::parse`] reads it.
    pub role_map: String,
}

/// A SAML identity provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SamlBinding {
    /// The provider's entity id (from its metadata).
    pub idp_entity_id: String,
    /// Its metadata document: endpoints and signing certificates.
    pub idp_metadata_xml: String,
    /// The attribute whose values grant roles.
    pub role_attribute: String,
    /// `value=role,…`, as [`crate::role_map::parse`] reads it.
    pub role_map: String,
    /// Whether responses the provider sends without a request of ours (IdP-initiated) are
    /// accepted; off unless the administrator turns it on.
    #[serde(default)]
    pub allow_unsolicited: bool,
}

impl OidcBinding {
    /// The parsed role map (checked when it was set, so an error here means the stored
    /// record was edited by hand).
    pub fn roles(&self) -> Result<Vec<(String, Role)>, String> {
        crate::role_map::parse(&self.role_map)
    }
}

impl SamlBinding {
    /// The parsed role map.
    pub fn roles(&self) -> Result<Vec<(String, Role)>, String> {
        crate::role_map::parse(&self.role_map)
    }
}

/// Checks an issuer URL as a binding takes it: `https://`, or `http://` to a loopback
/// address (a provider on the same machine).
pub fn check_issuer(issuer: &str) -> Result<(), String> {
    let rest = if let Some(rest) = issuer.strip_prefix("https://") {
        rest
    } else if let Some(rest) = issuer.strip_prefix("http://") {
        let host = rest.split(['/', ':']).next().unwrap_or_default();
        if !(host == "127.0.0.1" || host == "localhost" || rest.starts_with("[::1]")) {
            return Err(format!(
                "the issuer {issuer:?} must use https:// (plain http:// only to a loopback address)"
            ));
        }
        rest
    } else {
        return Err(format!("the issuer {issuer:?} is not an http(s) URL"));
    };
    if rest.is_empty() || rest.starts_with('/') {
        return Err(format!("the issuer {issuer:?} names no host"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuers_must_be_https_or_loopback() {
        assert!(check_issuer("https://id.example").is_ok());
        assert!(check_issuer("http://127.0.0.1:9000").is_ok());
        assert!(check_issuer("http://localhost/realms/a").is_ok());
        assert!(check_issuer("http://id.example").is_err());
        assert!(check_issuer("ftp://id.example").is_err());
        assert!(check_issuer("https://").is_err());
    }

    #[test]
    fn bindings_round_trip_without_empty_parts() {
        let b = SsoBinding {
            tenant: "acme".into(),
            oidc: None,
            saml: None,
            updated_at: 1,
        };
        let text = serde_json::to_string(&b).unwrap();
        assert!(!text.contains("oidc"), "{text}");
        assert_eq!(serde_json::from_str::<SsoBinding>(&text).unwrap(), b);
    }
}
