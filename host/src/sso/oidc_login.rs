//! Signing people in with a tenant's OpenID Connect provider (authorization code flow with
//! PKCE, on the `openidconnect` crate): discovery, state, nonce, the code exchange, ID token
//! validation (signature, issuer, audience, expiry, nonce), and the provider's sign-out.
//! A sign-in only ever ends in the tenant that started it, with that tenant's provider.

use super::{Answer, SignIn, SsoService};
use crate::auth::provider_http::{ProviderUnavailable, exchange};
use marcus_identity::login_state::{self, LoginState};
use marcus_identity::role_map;
use marcus_identity::session;
use marcus_identity::sso_binding::OidcBinding;
use marcus_identity::user::SsoLink;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreClaimName, CoreClaimType,
    CoreClientAuthMethod, CoreErrorResponseType, CoreGenderClaim, CoreGrantType, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm, CoreJwsSigningAlgorithm,
    CoreResponseMode, CoreResponseType, CoreRevocableToken, CoreRevocationErrorResponse,
    CoreSubjectIdentifierType, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AdditionalProviderMetadata, AuthorizationCode, Client, ClientId,
    ClientSecret, CsrfToken, EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet,
    IdTokenFields, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier, ProviderMetadata,
    RedirectUrl, RequestTokenError, Scope, StandardErrorResponse, StandardTokenResponse,
    TokenResponse,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The path the provider sends people back to.
pub const CALLBACK_PATH: &str = "/auth/oidc/callback";

/// How long discovered provider metadata (endpoints and keys) is kept; after that the next
/// sign-in discovers again, which also picks up rotated keys.
const METADATA_TTL: Duration = Duration::from_secs(300);

/// Every claim of an ID token beyond the standard ones, so the configured role claim
/// (`groups`, `roles`, …) can be read whatever its name.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OtherClaims(serde_json::Map<String, serde_json::Value>);

impl AdditionalClaims for OtherClaims {}

/// The provider's sign-out endpoint (OpenID Connect RP-Initiated Logout), beyond the core
/// metadata.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogoutMetadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    end_session_endpoint: Option<String>,
}

impl AdditionalProviderMetadata for LogoutMetadata {}

/// A provider's discovery document.
pub type Metadata = ProviderMetadata<
    LogoutMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

type TokenAnswer = StandardTokenResponse<
    IdTokenFields<
        OtherClaims,
        EmptyExtraTokenFields,
        CoreGenderClaim,
        CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm,
    >,
    CoreTokenType,
>;

type RelyingParty = Client<
    OtherClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    TokenAnswer,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Discovered metadata per issuer.
#[derive(Default)]
pub struct MetadataCache {
    by_issuer: tokio::sync::Mutex<HashMap<String, (Instant, Metadata)>>,
}

impl MetadataCache {
    /// The provider's metadata, discovered when not held or older than [`METADATA_TTL`].
    async fn get(&self, issuer: &str, fresh: bool) -> Result<Metadata, ProviderUnavailable> {
        let mut held = self.by_issuer.lock().await;
        if !fresh
            && let Some((at, metadata)) = held.get(issuer)
            && at.elapsed() < METADATA_TTL
        {
            return Ok(metadata.clone());
        }
        let url = IssuerUrl::new(issuer.to_string())
            .map_err(|e| ProviderUnavailable(format!("{issuer}: {e}")))?;
        let metadata = Metadata::discover_async(url, &exchange)
            .await
            .map_err(|e| ProviderUnavailable(format!("discovery at {issuer}: {e}")))?;
        held.insert(issuer.to_string(), (Instant::now(), metadata.clone()));
        Ok(metadata)
    }

    /// Where to send a person signing out of `issuer`, when it says.
    pub async fn end_session_endpoint(&self, issuer: &str) -> Option<String> {
        let metadata = self.get(issuer, false).await.ok()?;
        metadata.additional_metadata().end_session_endpoint.clone()
    }
}

fn relying_party(
    service: &SsoService,
    binding: &OidcBinding,
    metadata: Metadata,
) -> Result<RelyingParty, Answer> {
    let redirect = RedirectUrl::new(format!("{}{CALLBACK_PATH}", service.public_base))
        .map_err(|e| Answer::error(500, "internal", &format!("the callback URL: {e}")))?;
    Ok(RelyingParty::from_provider_metadata(
        metadata,
        ClientId::new(binding.client_id.clone()),
        Some(ClientSecret::new(binding.client_secret.clone())),
    )
    .set_redirect_uri(redirect))
}

/// `GET /auth/oidc/login?tenant=T[&return_to=/path]`: sends the browser to the tenant's
/// provider, remembering what its answer must match.
pub async fn begin(service: &SsoService, tenant: &str, return_to: Option<&str>) -> Answer {
    let binding = match service.binding(tenant).await {
        Ok(b) => b,
        Err(answer) => return answer,
    };
    let Some(oidc) = binding.oidc else {
        return Answer::error(
            404,
            "sso_not_configured",
            &format!(
                "tenant {tenant:?} signs in with no OpenID Connect provider (marcus sso oidc set)"
            ),
        );
    };
    let metadata = match service.metadata.get(&oidc.issuer, false).await {
        Ok(m) => m,
        Err(e) => return Answer::error(503, "unavailable", &e.to_string()),
    };
    let offers_role_scope = metadata
        .scopes_supported()
        .is_some_and(|s| s.iter().any(|s| s.as_str() == oidc.role_claim));
    let client = match relying_party(service, &oidc, metadata) {
        Ok(c) => c,
        Err(answer) => return answer,
    };
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge);
    if offers_role_scope {
        request = request.add_scope(Scope::new(oidc.role_claim.clone()));
    }
    let (url, state, nonce) = request.url();
    let now = crate::storage::now_ms();
    let pending = LoginState {
        id: session::digest(state.secret()),
        tenant: tenant.to_string(),
        protocol: "oidc".into(),
        pkce_verifier: Some(verifier.secret().clone()),
        nonce: Some(nonce.secret().clone()),
        request_id: None,
        return_to: login_state::local_return_path(return_to),
        created_at: now,
        expires_at: now + login_state::LIFETIME_MS,
    };
    if let Err(e) = super::login_states::remember(&*service.storage, &pending).await {
        return Answer::error(
            503,
            "unavailable",
            &format!("the sign-in cannot be stored: {e}"),
        );
    }
    Answer::redirect(url.as_str()).with_cookie(crate::sso::cookies::set(
        login_state::COOKIE,
        state.secret(),
        login_state::LIFETIME_MS / 1000,
        service.secure_cookies,
    ))
}

/// `GET /auth/oidc/callback`: checks the provider's answer against the sign-in it belongs
/// to, exchanges the code, validates the ID token and maps its claims to a role.
pub async fn finish(
    service: &SsoService,
    query: &HashMap<String, String>,
    headers: &hyper::HeaderMap,
) -> Result<SignIn, Answer> {
    let state = query
        .get("state")
        .ok_or_else(|| Answer::error(400, "bad_request", "the provider's answer has no state"))?;
    let bound = crate::sso::cookies::get(headers, login_state::COOKIE);
    if bound.as_deref() != Some(state.as_str()) {
        return Err(Answer::error(
            400,
            "login_state_mismatch",
            "this answer belongs to a sign-in this browser did not start; start again",
        ));
    }
    let pending = super::login_states::take(&*service.storage, &session::digest(state))
        .await
        .map_err(|e| Answer::error(503, "unavailable", &e.to_string()))?
        .filter(|p| p.protocol == "oidc")
        .ok_or_else(|| {
            Answer::error(
                400,
                "login_state_unknown",
                "the sign-in is unknown, expired or already finished; start again",
            )
        })?;
    if let Some(error) = query.get("error") {
        let why = query.get("error_description").unwrap_or(error);
        return Err(Answer::error(
            401,
            "login_refused",
            &format!("the identity provider refused the sign-in: {why}"),
        ));
    }
    let code = query
        .get("code")
        .ok_or_else(|| Answer::error(400, "bad_request", "the provider's answer has no code"))?;
    let tenant = pending.tenant.clone();
    let oidc = service
        .binding(&tenant)
        .await?
        .oidc
        .ok_or_else(|| Answer::error(404, "sso_not_configured", "the provider was unbound"))?;
    let metadata = service
        .metadata
        .get(&oidc.issuer, false)
        .await
        .map_err(|e| Answer::error(503, "unavailable", &e.to_string()))?;
    let client = relying_party(service, &oidc, metadata)?;
    let verifier = PkceCodeVerifier::new(pending.pkce_verifier.clone().unwrap_or_default());
    let answer = client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .map_err(|e| Answer::error(503, "unavailable", &e.to_string()))?
        .set_pkce_verifier(verifier)
        .request_async(&exchange)
        .await
        .map_err(|e| match e {
            RequestTokenError::Request(e) => Answer::error(503, "unavailable", &e.to_string()),
            RequestTokenError::ServerResponse(r) => Answer::error(
                401,
                "login_refused",
                &format!("the identity provider refused the code: {}", r.error()),
            ),
            other => Answer::error(
                401,
                "login_refused",
                &format!("the identity provider's token answer is not valid: {other}"),
            ),
        })?;
    let id_token = answer.id_token().ok_or_else(|| {
        Answer::error(
            401,
            "login_refused",
            "the identity provider sent no ID token",
        )
    })?;
    let nonce = Nonce::new(pending.nonce.clone().unwrap_or_default());
    let claims = id_token
        .claims(&client.id_token_verifier(), &nonce)
        .map_err(|e| {
            Answer::error(
                401,
                "id_token_refused",
                &format!("the ID token is not valid for this sign-in: {e}"),
            )
        })?;
    let roles = oidc
        .roles()
        .map_err(|e| Answer::error(500, "internal", &format!("the stored role map: {e}")))?;
    let values = role_map::claim_values(claims.additional_claims().0.get(&oidc.role_claim));
    let role = role_map::granted(&roles, &values).ok_or_else(|| {
        Answer::error(
            403,
            "no_role",
            &format!(
                "your account's {} grant no role in {tenant:?}; ask its administrator",
                oidc.role_claim
            ),
        )
    })?;
    let subject = claims.subject().as_str().to_string();
    let email = claims.email().map(|e| e.as_str().to_string());
    let user_name = email
        .clone()
        .or_else(|| claims.preferred_username().map(|u| u.as_str().to_string()))
        .unwrap_or_else(|| subject.clone());
    let display_name = claims
        .name()
        .and_then(|n| n.get(None))
        .map(|n| n.as_str().to_string());
    Ok(SignIn {
        tenant,
        link: SsoLink {
            protocol: "oidc".into(),
            issuer: oidc.issuer.clone(),
            subject,
        },
        profile: super::users::Profile {
            user_name,
            display_name,
            email,
        },
        role,
        return_to: pending.return_to,
        id_token_hint: Some(id_token.to_string()),
        clear_cookie: Some(login_state::COOKIE),
    })
}
