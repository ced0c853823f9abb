//! Signing people in with a tenant's SAML 2.0 identity provider: SP-initiated login (the
//! HTTP-Redirect binding to the provider, the HTTP-POST binding back), the service
//! provider's metadata, and the answer checked by [`super::saml`] against the tenant's
//! provider, the sign-in it answers, and every assertion id used before.

use super::saml::{self, SamlRejected, SpSettings};
use super::{Answer, SignIn, SsoService};
use marcus_identity::login_state::{self, LoginState};
use marcus_identity::role_map;
use marcus_identity::session;
use marcus_identity::sso_binding::SamlBinding;
use marcus_identity::user::SsoLink;
use std::collections::HashMap;

/// Where the provider posts its answers.
pub use super::routes::SAML_ACS_PATH as ACS_PATH;

/// The path of a tenant's service provider metadata; with the tenant, also its entity id.
pub const METADATA_PATH: &str = "/auth/saml/metadata";

/// Attributes read for the person's user name, in order (else the NameID).
const NAME_ATTRIBUTES: [&str; 4] = [
    "email",
    "mail",
    "urn:oid:0.9.2342.19200300.100.1.3",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
];

/// The service provider Marcus is for `tenant`.
fn sp(service: &SsoService, tenant: &str, binding: &SamlBinding) -> SpSettings {
    SpSettings {
        entity_id: entity_id(&service.public_base, tenant),
        acs_url: format!("{}{ACS_PATH}", service.public_base),
        idp_metadata_xml: binding.idp_metadata_xml.clone(),
        allow_unsolicited: binding.allow_unsolicited,
    }
}

/// The entity id of `tenant`'s service provider: its metadata URL.
pub fn entity_id(public_base: &str, tenant: &str) -> String {
    format!("{public_base}{METADATA_PATH}?tenant={tenant}")
}

async fn saml_binding(service: &SsoService, tenant: &str) -> Result<SamlBinding, Answer> {
    service.binding(tenant).await?.saml.ok_or_else(|| {
        Answer::error(
            404,
            "sso_not_configured",
            &format!(
                "tenant {tenant:?} signs in with no SAML identity provider (marcus sso saml set)"
            ),
        )
    })
}

/// `GET /auth/saml/metadata?tenant=T`: the service provider's metadata for the tenant's
/// identity provider.
pub async fn metadata(service: &SsoService, tenant: &str) -> Answer {
    let binding = match saml_binding(service, tenant).await {
        Ok(b) => b,
        Err(answer) => return answer,
    };
    match saml::sp_metadata(&sp(service, tenant, &binding)) {
        Ok(xml) => Answer::xml(&xml),
        Err(e) => Answer::error(500, "internal", &e.to_string()),
    }
}

/// `GET /auth/saml/login?tenant=T[&return_to=/path]`: sends the browser to the tenant's
/// identity provider with a request whose id the answer must carry.
pub async fn begin(service: &SsoService, tenant: &str, return_to: Option<&str>) -> Answer {
    let binding = match saml_binding(service, tenant).await {
        Ok(b) => b,
        Err(answer) => return answer,
    };
    let relay = super::sessions::random_secret();
    let redirect = match saml::login_redirect(&sp(service, tenant, &binding), &relay) {
        Ok(r) => r,
        Err(e) => return Answer::error(500, "internal", &e.to_string()),
    };
    let now = crate::storage::now_ms();
    let pending = LoginState {
        id: session::digest(&relay),
        tenant: tenant.to_string(),
        protocol: "saml".into(),
        pkce_verifier: None,
        nonce: None,
        request_id: Some(redirect.request_id),
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
    Answer::redirect(&redirect.url)
}

/// `POST /auth/saml/acs`: the provider's answer. A `RelayState` naming a sign-in of ours
/// is checked against that sign-in's tenant and request; an answer without one is
/// unsolicited, accepted only by a tenant that allows it.
pub async fn finish(
    service: &SsoService,
    form: &HashMap<String, String>,
) -> Result<SignIn, Answer> {
    let response = form.get("SAMLResponse").ok_or_else(|| {
        Answer::error(
            400,
            "bad_request",
            "the identity provider's answer has no SAMLResponse",
        )
    })?;
    let pending = match form.get("RelayState").filter(|r| !r.is_empty()) {
        Some(relay) => super::login_states::take(&*service.storage, &session::digest(relay))
            .await
            .map_err(|e| Answer::error(503, "unavailable", &e.to_string()))?
            .filter(|p| p.protocol == "saml"),
        None => None,
    };
    let now = std::time::SystemTime::now();
    let (tenant, binding, verified, return_to) = match pending {
        Some(p) => {
            let binding = saml_binding(service, &p.tenant).await?;
            let verified = saml::verify_response(
                &sp(service, &p.tenant, &binding),
                response,
                p.request_id.as_deref(),
                now,
            )
            .map_err(refused)?;
            (p.tenant, binding, verified, p.return_to)
        }
        None => unsolicited(service, response, now).await?,
    };
    let expires_ms = verified
        .not_on_or_after
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(u64::MAX);
    let first = super::assertion_ids::first_use(
        &*service.storage,
        &verified.issuer,
        &verified.assertion_id,
        expires_ms,
    )
    .await
    .map_err(|e| Answer::error(503, "unavailable", &e.to_string()))?;
    if !first {
        return Err(Answer::error(
            401,
            "saml_refused",
            "this SAML assertion was used to sign in before (a replay); sign in again",
        ));
    }
    let roles = binding
        .roles()
        .map_err(|e| Answer::error(500, "internal", &format!("the stored role map: {e}")))?;
    let values = verified
        .attributes
        .get(&binding.role_attribute)
        .cloned()
        .unwrap_or_default();
    let role = role_map::granted(&roles, &values).ok_or_else(|| {
        Answer::error(
            403,
            "no_role",
            &format!(
                "your account's {} grant no role in {tenant:?}; ask its administrator",
                binding.role_attribute
            ),
        )
    })?;
    let email = NAME_ATTRIBUTES
        .iter()
        .find_map(|a| verified.attributes.get(*a).and_then(|v| v.first()).cloned());
    let display_name = ["displayName", "cn", "name"]
        .iter()
        .find_map(|a| verified.attributes.get(*a).and_then(|v| v.first()).cloned());
    Ok(SignIn {
        tenant,
        link: SsoLink {
            protocol: "saml".into(),
            issuer: verified.issuer.clone(),
            subject: verified.name_id.clone(),
        },
        profile: super::users::Profile {
            user_name: email.clone().unwrap_or_else(|| verified.name_id.clone()),
            display_name,
            email,
        },
        role,
        return_to,
        id_token_hint: None,
        clear_cookie: None,
    })
}

/// An answer no sign-in of ours asked for: verified for each tenant that accepts those
/// (its audience names one tenant's service provider, so at most one can verify it).
async fn unsolicited(
    service: &SsoService,
    response: &str,
    now: std::time::SystemTime,
) -> Result<(String, SamlBinding, saml::VerifiedAssertion, String), Answer> {
    let bindings = super::bindings::list(&*service.storage)
        .await
        .map_err(|e| Answer::error(503, "unavailable", &e.to_string()))?;
    let mut why = SamlRejected::Unsolicited;
    for b in bindings {
        let Some(saml) = b.saml.filter(|s| s.allow_unsolicited) else {
            continue;
        };
        if !matches!(service.tenants.check(&b.tenant).await, Ok(Ok(()))) {
            continue;
        }
        match saml::verify_response(&sp(service, &b.tenant, &saml), response, None, now) {
            Ok(verified) => return Ok((b.tenant, saml, verified, "/".into())),
            Err(e) => why = e,
        }
    }
    Err(refused(why))
}

fn refused(why: SamlRejected) -> Answer {
    Answer::error(401, "saml_refused", &why.to_string())
}
