//! The native host as an OAuth 2.1 resource server (MCP authorization): it discovers the
//! configured provider's key set, keeps it, refetches it when a token names a key it does
//! not hold (the provider rotated its keys), and verifies access tokens with the identity
//! crate's rules. It also publishes the protected resource metadata (RFC 9728) clients read
//! to find the provider.

use super::provider_http::get_json;
use marcus_identity::oidc::{self, OidcRejected, OidcSettings};
use marcus_identity::principal::Principal;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// The path of the protected resource metadata; the resource's own path follows it.
pub const METADATA_PATH: &str = "/.well-known/oauth-protected-resource";

/// A key set is refetched for an unknown key at most this often, so tokens naming made-up
/// keys cannot make the server hammer its provider.
const REFETCH_AT_MOST_EVERY: Duration = Duration::from_secs(10);

/// Verifies one provider's access tokens.
pub struct OidcVerifier {
    /// Which provider, which audience, how claims map to roles.
    pub settings: OidcSettings,
    keys: Mutex<KeyCache>,
}

#[derive(Default)]
struct KeyCache {
    jwks_uri: Option<String>,
    keys: Option<std::sync::Arc<oidc::JwkSet>>,
    fetched_at: Option<Instant>,
}

/// Why a token could not be checked at all (the provider is unreachable or answers
/// nonsense): the request is answered `503`, never let through.
pub use super::provider_http::ProviderUnavailable;

impl OidcVerifier {
    /// A verifier for `settings`; nothing is fetched until the first token arrives.
    pub fn new(settings: OidcSettings) -> Self {
        Self {
            settings,
            keys: Mutex::new(KeyCache::default()),
        }
    }

    /// The principal of `token`, or why it is refused.
    pub async fn verify(
        &self,
        token: &str,
    ) -> Result<Result<Principal, OidcRejected>, ProviderUnavailable> {
        let kid = match oidc::key_id(token) {
            Ok(kid) => kid,
            Err(rejected) => return Ok(Err(rejected)),
        };
        // Verification itself runs outside the lock; only a refetch makes others wait.
        let keys = {
            let mut cache = self.keys.lock().await;
            let holds_key = cache.keys.as_ref().is_some_and(|k| k.find(&kid).is_some());
            let may_refetch = cache
                .fetched_at
                .is_none_or(|at| at.elapsed() >= REFETCH_AT_MOST_EVERY);
            if !holds_key && may_refetch {
                self.refresh(&mut cache).await?;
            }
            cache.keys.clone()
        };
        let Some(keys) = keys else {
            return Err(ProviderUnavailable("no key set was fetched yet".into()));
        };
        Ok(oidc::verify(&self.settings, token, &keys))
    }

    /// Fetches the key set again (discovering where it is the first time).
    async fn refresh(&self, cache: &mut KeyCache) -> Result<(), ProviderUnavailable> {
        cache.fetched_at = Some(Instant::now());
        let jwks_uri = match &cache.jwks_uri {
            Some(uri) => uri.clone(),
            None => {
                let discovery = format!(
                    "{}/.well-known/openid-configuration",
                    self.settings.issuer.trim_end_matches('/')
                );
                let document = get_json(&discovery).await?;
                if document.get("issuer").and_then(|v| v.as_str()) != Some(&self.settings.issuer) {
                    return Err(ProviderUnavailable(format!(
                        "{discovery} names another issuer than {}",
                        self.settings.issuer
                    )));
                }
                let uri = document
                    .get("jwks_uri")
                    .and_then(|v| v.as_str())
                    .ok_or_else(|| ProviderUnavailable(format!("{discovery} has no jwks_uri")))?
                    .to_string();
                cache.jwks_uri = Some(uri.clone());
                uri
            }
        };
        let keys = serde_json::from_value(get_json(&jwks_uri).await?)
            .map_err(|e| ProviderUnavailable(format!("{jwks_uri} is not a key set: {e}")))?;
        cache.keys = Some(std::sync::Arc::new(keys));
        Ok(())
    }

    /// The protected resource metadata (RFC 9728) of the MCP endpoint.
    pub fn resource_metadata(&self) -> serde_json::Value {
        serde_json::json!({
            "resource": self.settings.audience,
            "authorization_servers": [self.settings.issuer],
            "scopes_supported": if self.settings.role_claim == "scope" {
                self.settings.role_values()
            } else {
                Vec::new()
            },
            "bearer_methods_supported": ["header"],
            "resource_name": "Marcus",
        })
    }

    /// Where clients find that metadata: the well-known path followed by the resource's
    /// path, on the resource's origin.
    pub fn resource_metadata_url(&self) -> String {
        metadata_url(&self.settings.audience)
    }
}

/// `https://host/mcp` → `https://host/.well-known/oauth-protected-resource/mcp`.
pub fn metadata_url(resource: &str) -> String {
    let (scheme, rest) = resource.split_once("://").unwrap_or(("http", resource));
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
        None => (rest, ""),
    };
    format!("{scheme}://{authority}{METADATA_PATH}{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_metadata_url_inserts_the_well_known_path() {
        assert_eq!(
            metadata_url("https://marcus.example/mcp"),
            "https://marcus.example/.well-known/oauth-protected-resource/mcp"
        );
        assert_eq!(
            metadata_url("http://127.0.0.1:4298/mcp/"),
            "http://127.0.0.1:4298/.well-known/oauth-protected-resource/mcp"
        );
        assert_eq!(
            metadata_url("https://marcus.example"),
            "https://marcus.example/.well-known/oauth-protected-resource"
        );
    }
}
