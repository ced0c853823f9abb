//! Authentication on the native host: which requests need credentials ([`mode`]), the
//! installation's token secret ([`secret`]), the token records in storage ([`tokens`]), the
//! first admin token of an exposed server ([`first_admin`]), and [`Authenticator`], which
//! verifies a request's credentials before the app runs and hands the app its principal.

pub mod admin_api;
pub mod command;
pub mod first_admin;
pub mod mode;
pub mod oidc;
pub mod provider_http;
pub mod secret;
pub mod tokens;

use crate::json_error;
use crate::storage::StorageBackend;
use marcus_identity::digest::ServerSecret;
use marcus_identity::oidc::OidcRejected;
use marcus_identity::principal::Principal;
use marcus_identity::record::{self, Rejected};
use marcus_identity::session;
use marcus_identity::token::Token;
use mode::AuthMode;
use std::sync::Arc;

/// Verifies requests' credentials for one server.
pub struct Authenticator {
    /// Whether credentials are required.
    pub mode: AuthMode,
    storage: Arc<dyn StorageBackend>,
    /// Read when the first token is presented (a server where none was ever made writes
    /// nothing about authentication), then kept.
    secret: tokio::sync::OnceCell<ServerSecret>,
    /// The identity provider whose access tokens are accepted too, when one is configured.
    pub oidc: Option<oidc::OidcVerifier>,
    /// The tenants whose credentials are accepted.
    pub tenants: Arc<crate::tenants::served::ServedTenants>,
}

/// A response refusing a request's credentials (boxed: it is the rare path).
pub type Refusal = Box<hyper::Response<wasmtime_wasi_http::p2::body::HyperOutgoingBody>>;

impl Authenticator {
    /// An authenticator on `storage`.
    pub fn new(
        mode: AuthMode,
        storage: Arc<dyn StorageBackend>,
        oidc: Option<oidc::OidcVerifier>,
    ) -> Self {
        Self {
            mode,
            tenants: Arc::new(crate::tenants::served::ServedTenants::new(storage.clone())),
            storage,
            secret: tokio::sync::OnceCell::new(),
            oidc,
        }
    }

    /// `principal` when its tenant is served; a disabled or unknown tenant's credentials are
    /// refused like a revoked token.
    async fn in_served_tenant(&self, principal: Principal) -> Result<Principal, Refusal> {
        match self.tenants.check(&principal.tenant).await {
            Ok(Ok(())) => Ok(principal),
            Ok(Err(why)) => {
                metrics::counter!("marcus_auth_refused_total").increment(1);
                Err(self.unauthorized(&Rejected::TenantUnavailable(why)))
            }
            Err(e) => Err(Box::new(json_error::response(
                503,
                "unavailable",
                &format!("the credentials cannot be checked: {e}"),
            ))),
        }
    }

    /// The installation's token secret; none while no token was ever made.
    async fn secret(&self) -> anyhow::Result<Option<&ServerSecret>> {
        if let Some(secret) = self.secret.get() {
            return Ok(Some(secret));
        }
        match secret::load(&*self.storage).await? {
            Some(secret) => Ok(Some(self.secret.get_or_init(|| async { secret }).await)),
            None => Ok(None),
        }
    }

    /// The principal of a request with these headers: the token's when it brings one (a
    /// token that does not verify is refused, whatever the mode), else the local or
    /// unverified admin where no credentials are required, else none (it may reach only
    /// what is public).
    pub async fn authenticate(
        &self,
        method: &hyper::Method,
        headers: &hyper::HeaderMap,
    ) -> Result<Option<Principal>, Refusal> {
        let Some(header) = headers.get(hyper::header::AUTHORIZATION) else {
            return match crate::sso::cookies::get(headers, session::COOKIE) {
                Some(secret) => self.session(method, headers, &secret).await,
                None => Ok(self.mode.anonymous()),
            };
        };
        let header = header.to_str().map_err(|_| {
            self.unauthorized(&Rejected::Malformed("the header is not text".into()))
        })?;
        let value = record::bearer_value(header).map_err(|r| self.unauthorized(&r))?;
        let unavailable = |e: &dyn std::fmt::Display| {
            Box::new(json_error::response(
                503,
                "unavailable",
                &format!("the credentials cannot be checked: {e}"),
            ))
        };
        if let Some(provider) = &self.oidc
            && marcus_identity::oidc::looks_like_jwt(value)
        {
            return match provider.verify(value).await {
                Err(e) => Err(unavailable(&e)),
                Ok(Ok(principal)) => self.in_served_tenant(principal).await.map(Some),
                Ok(Err(rejected)) => {
                    metrics::counter!("marcus_auth_refused_total").increment(1);
                    Err(self.refuse_access_token(&rejected))
                }
            };
        }
        let token = Token::parse(value)
            .map_err(|e| self.unauthorized(&Rejected::Malformed(e.to_string())))?;
        let verdict = match self.secret().await {
            Err(e) => return Err(unavailable(&e)),
            // No token was ever made here: none can match.
            Ok(None) => Err(Rejected::Unknown),
            Ok(Some(secret)) => tokens::verify(&self.storage, secret, &token)
                .await
                .map_err(|e| unavailable(&e))?,
        };
        let principal = verdict.map_err(|rejected| {
            metrics::counter!("marcus_auth_refused_total").increment(1);
            self.unauthorized(&rejected)
        })?;
        self.in_served_tenant(principal).await.map(Some)
    }

    /// The principal of a browser session: the person who signed in, while the session
    /// lasts; a state-changing request must also echo the session's CSRF token. A cookie
    /// naming no live session counts as no credentials (it expired, or the person signed
    /// out elsewhere).
    async fn session(
        &self,
        method: &hyper::Method,
        headers: &hyper::HeaderMap,
        secret: &str,
    ) -> Result<Option<Principal>, Refusal> {
        let record = match crate::sso::sessions::find(&*self.storage, secret).await {
            Ok(Some(record)) => record,
            Ok(None) => return Ok(self.mode.anonymous()),
            Err(e) => {
                return Err(Box::new(json_error::response(
                    503,
                    "unavailable",
                    &format!("the session cannot be checked: {e}"),
                )));
            }
        };
        if session::changes_state(method.as_str()) {
            let presented = headers
                .get(session::CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if !record.csrf_matches(presented) {
                metrics::counter!("marcus_auth_refused_total").increment(1);
                return Err(Box::new(json_error::response(
                    403,
                    "csrf_failed",
                    "a signed-in browser's state-changing request must carry the session's CSRF token in X-CSRF-Token (GET /auth/session has it)",
                )));
            }
        }
        self.in_served_tenant(record.principal()).await.map(Some)
    }

    /// `401` with the reason and the challenge.
    pub fn unauthorized(&self, why: &Rejected) -> Refusal {
        let mut response = json_error::response(401, "unauthorized", &why.to_string());
        response
            .headers_mut()
            .insert(hyper::header::WWW_AUTHENTICATE, self.challenge(None));
        Box::new(response)
    }

    /// A provider's access token refused: `401 invalid_token`, or `403 insufficient_scope`
    /// when it is valid but grants no role here (the client may ask for more).
    fn refuse_access_token(&self, why: &OidcRejected) -> Refusal {
        let (status, code) = match why {
            OidcRejected::NoRole => (403, "insufficient_scope"),
            _ => (401, "unauthorized"),
        };
        let mut response = json_error::response(status, code, &why.to_string());
        response.headers_mut().insert(
            hyper::header::WWW_AUTHENTICATE,
            self.challenge(Some(why.error_code())),
        );
        Box::new(response)
    }

    /// The `WWW-Authenticate` challenge: what a client must send, the OAuth error when
    /// there is one, and where the protected resource metadata is when a provider is
    /// configured (MCP clients start their authorization flow from it).
    pub fn challenge(&self, error: Option<&str>) -> hyper::header::HeaderValue {
        let mut challenge = record::CHALLENGE.to_string();
        if let Some(error) = error {
            challenge.push_str(&format!(", error=\"{error}\""));
            if let (Some(provider), "insufficient_scope") = (&self.oidc, error) {
                let scopes = provider.settings.role_values().join(" ");
                challenge.push_str(&format!(", scope=\"{scopes}\""));
            }
        }
        if let Some(provider) = &self.oidc {
            challenge.push_str(&format!(
                ", resource_metadata=\"{}\"",
                provider.resource_metadata_url()
            ));
        }
        hyper::header::HeaderValue::from_str(&challenge)
            .unwrap_or_else(|_| hyper::header::HeaderValue::from_static(record::CHALLENGE))
    }

    /// Gives a refusal the app or a host route made the challenge of this server: every
    /// `401`, and a `403` to a provider's token (a step-up: the client may ask for a scope
    /// that grants more).
    pub fn challenge_refusal(
        &self,
        response: &mut hyper::Response<impl hyper::body::Body>,
        by_provider: bool,
    ) {
        let error = match response.status().as_u16() {
            401 => None,
            403 if by_provider => Some("insufficient_scope"),
            _ => return,
        };
        if response.status() == 401 && self.oidc.is_none() {
            return;
        }
        let challenge = self.challenge(error);
        response
            .headers_mut()
            .insert(hyper::header::WWW_AUTHENTICATE, challenge);
    }
}
