//! Single sign-on for people: each tenant binds its own OpenID Connect provider (and SAML
//! identity provider); a person signs in there, comes back with a role their groups grant,
//! and holds a server-side session (see `marcus_identity::session`) any host of the team
//! accepts. The routes live under `/auth/`: OpenID Connect ([`oidc_login`]) and SAML 2.0
//! (`saml_login`, with the service provider's checks in `saml`; feature `saml`).

pub mod answer;
#[cfg(feature = "saml")]
pub mod assertion_ids;
pub mod bindings;
pub mod command;
pub mod cookies;
pub mod login_states;
pub mod oidc_login;
pub mod routes;
#[cfg(feature = "saml")]
pub mod saml;
#[cfg(feature = "saml")]
pub mod saml_login;
pub mod sessions;
pub mod users;

pub use answer::Answer;

use crate::storage::StorageBackend;
use crate::tenants::served::ServedTenants;
use marcus_identity::principal::Role;
use marcus_identity::sso_binding::SsoBinding;
use marcus_identity::user::SsoLink;
use std::sync::Arc;

/// What the sign-in routes of one server share.
pub struct SsoService {
    /// Where bindings, sign-ins in progress, users and sessions are kept.
    pub storage: Arc<dyn StorageBackend>,
    /// Which tenants are served.
    pub tenants: Arc<ServedTenants>,
    /// The URL people reach this server at, without a trailing slash (the providers send
    /// them back to it).
    pub public_base: String,
    /// Whether cookies are marked `Secure` (the public URL is HTTPS).
    pub secure_cookies: bool,
    /// Providers' discovered metadata.
    pub metadata: oidc_login::MetadataCache,
}

/// A person the provider vouched for, about to get a session.
pub struct SignIn {
    /// The tenant they signed in to.
    pub tenant: String,
    /// Their account at the provider.
    pub link: SsoLink,
    /// What the provider said about them.
    pub profile: users::Profile,
    /// The role their groups grant.
    pub role: Role,
    /// Where they go next.
    pub return_to: String,
    /// The ID token, for signing out at the provider.
    pub id_token_hint: Option<String>,
    /// The sign-in cookie to remove.
    pub clear_cookie: Option<&'static str>,
}

impl SsoService {
    /// The service of a server people reach at `public_base`.
    pub fn new(
        storage: Arc<dyn StorageBackend>,
        tenants: Arc<ServedTenants>,
        public_base: &str,
    ) -> Self {
        let public_base = public_base.trim_end_matches('/').to_string();
        Self {
            storage,
            tenants,
            secure_cookies: public_base.starts_with("https://"),
            public_base,
            metadata: oidc_login::MetadataCache::default(),
        }
    }

    /// `tenant`'s binding; `404` when the tenant is not served or binds nothing.
    async fn binding(&self, tenant: &str) -> Result<SsoBinding, Answer> {
        let unknown = || {
            Answer::error(
                404,
                "sso_not_configured",
                &format!("tenant {tenant:?} has no single sign-on here"),
            )
        };
        match self.tenants.check(tenant).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => return Err(unknown()),
            Err(e) => return Err(Answer::error(503, "unavailable", &e.to_string())),
        }
        match bindings::get(&*self.storage, tenant).await {
            Ok(Some(binding)) => Ok(binding),
            Ok(None) => Err(unknown()),
            Err(e) => Err(Answer::error(503, "unavailable", &e.to_string())),
        }
    }

    /// Ends a vouched-for sign-in: the user (created on first sign-in, refused when
    /// deactivated), a new session replacing any the browser held, and the way back.
    pub async fn complete(&self, sign_in: SignIn, headers: &hyper::HeaderMap) -> Answer {
        let user = match users::signed_in(
            &*self.storage,
            &sign_in.tenant,
            &sign_in.link,
            &sign_in.profile,
        )
        .await
        {
            Ok(Ok(user)) => user,
            Ok(Err(refused)) => {
                return Answer::error(403, "user_deactivated", &refused.to_string());
            }
            Err(e) => return Answer::error(503, "unavailable", &e.to_string()),
        };
        // A session the browser held before is ended, never carried over.
        if let Some(old) = cookies::get(headers, marcus_identity::session::COOKIE) {
            let _ = sessions::end(&*self.storage, &old).await;
        }
        let started = match sessions::start(
            &*self.storage,
            &user,
            sign_in.role,
            &sign_in.link.protocol,
            sign_in.id_token_hint,
        )
        .await
        {
            Ok(s) => s,
            Err(e) => return Answer::error(503, "unavailable", &e.to_string()),
        };
        tracing::info!(
            tenant = %sign_in.tenant,
            user = %user.user_name,
            role = sign_in.role.as_str(),
            protocol = %sign_in.link.protocol,
            "signed in"
        );
        let mut answer = Answer::redirect(&sign_in.return_to).with_cookie(cookies::set(
            marcus_identity::session::COOKIE,
            &started.secret,
            marcus_identity::session::LIFETIME_MS / 1000,
            self.secure_cookies,
        ));
        if let Some(name) = sign_in.clear_cookie {
            answer = answer.with_cookie(cookies::clear(name, self.secure_cookies));
        }
        answer
    }
}
