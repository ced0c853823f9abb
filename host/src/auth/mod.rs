//! Authentication on the native host: which requests need credentials ([`mode`]), the
//! installation's token secret ([`secret`]), the token records in storage ([`tokens`]), the
//! first admin token of an exposed server ([`first_admin`]), and [`Authenticator`], which
//! verifies a request's credentials before the app runs and hands the app its principal.

pub mod command;
pub mod first_admin;
pub mod mode;
pub mod secret;
pub mod tokens;

use crate::json_error;
use crate::storage::StorageBackend;
use marcus_identity::digest::ServerSecret;
use marcus_identity::principal::Principal;
use marcus_identity::record::{self, Rejected};
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
}

/// A response refusing a request's credentials (boxed: it is the rare path).
pub type Refusal = Box<hyper::Response<wasmtime_wasi_http::p2::body::HyperOutgoingBody>>;

impl Authenticator {
    /// An authenticator on `storage`.
    pub fn new(mode: AuthMode, storage: Arc<dyn StorageBackend>) -> Self {
        Self {
            mode,
            storage,
            secret: tokio::sync::OnceCell::new(),
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
        headers: &hyper::HeaderMap,
    ) -> Result<Option<Principal>, Refusal> {
        let Some(header) = headers.get(hyper::header::AUTHORIZATION) else {
            return Ok(self.mode.anonymous());
        };
        let header = header
            .to_str()
            .map_err(|_| unauthorized(&Rejected::Malformed("the header is not text".into())))?;
        let token = record::bearer(header).map_err(|r| unauthorized(&r))?;
        let unavailable = |e: &dyn std::fmt::Display| {
            Box::new(json_error::response(
                503,
                "unavailable",
                &format!("the credential store cannot be read: {e}"),
            ))
        };
        let verdict = match self.secret().await {
            Err(e) => return Err(unavailable(&e)),
            // No token was ever made here: none can match.
            Ok(None) => Err(Rejected::Unknown),
            Ok(Some(secret)) => tokens::verify(&self.storage, secret, &token)
                .await
                .map_err(|e| unavailable(&e))?,
        };
        verdict.map(Some).map_err(|rejected| {
            metrics::counter!("marcus_auth_refused_total").increment(1);
            unauthorized(&rejected)
        })
    }
}

/// `401` with the reason and a `WWW-Authenticate: Bearer` challenge.
pub fn unauthorized(why: &Rejected) -> Refusal {
    let mut response = json_error::response(401, "unauthorized", &why.to_string());
    response.headers_mut().insert(
        hyper::header::WWW_AUTHENTICATE,
        hyper::header::HeaderValue::from_static(record::CHALLENGE),
    );
    Box::new(response)
}
