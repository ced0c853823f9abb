//! The `/auth/` routes: where people start signing in, where providers send them back, who
//! they are now (with the CSRF token their page must send), and signing out. Anyone may
//! start a sign-in; what a session may do afterwards is its role's business.

use super::{Answer, SsoService, cookies, oidc_login, sessions};
use hyper::Method;
use marcus_identity::principal::{Principal, Verification};
use marcus_identity::session;
use std::collections::HashMap;

/// Where the routes live.
pub const PATH: &str = "/auth";

/// Where a SAML identity provider posts its answers.
pub const SAML_ACS_PATH: &str = "/auth/saml/acs";

/// The one route another site's page may post to: the SAML identity provider's answer
/// arrives as a cross-site form post, and its signature, not its origin, is its proof.
pub const CROSS_SITE_POSTS: [&str; 1] = [SAML_ACS_PATH];

/// What a sign-in route is asked.
pub struct SsoRequest<'a> {
    /// Its method.
    pub method: &'a Method,
    /// Its path.
    pub path: &'a str,
    /// Its raw query.
    pub query: Option<&'a str>,
    /// Its headers.
    pub headers: &'a hyper::HeaderMap,
    /// Its body (read for `POST` only).
    pub body: &'a [u8],
}

/// Answers a request under [`PATH`].
pub async fn serve(
    service: &SsoService,
    request: SsoRequest<'_>,
    principal: Option<&Principal>,
) -> Answer {
    let SsoRequest {
        method,
        path,
        query,
        headers,
        body,
    } = request;
    let query: HashMap<String, String> = form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .into_owned()
        .collect();
    let get = *method == Method::GET;
    let tenant = || match query.get("tenant") {
        None => Err(Answer::error(
            400,
            "bad_request",
            &format!("name the tenant: {path}?tenant=NAME"),
        )),
        Some(t) => marcus_identity::tenant::check_name(t)
            .map(|()| t.as_str())
            .map_err(|e| Answer::error(400, "bad_request", &e)),
    };
    let return_to = query.get("return_to").map(String::as_str);
    match path {
        "/auth/oidc/login" if get => match tenant() {
            Ok(t) => oidc_login::begin(service, t, return_to).await,
            Err(refusal) => refusal,
        },
        #[cfg(feature = "saml")]
        "/auth/saml/login" if get => match tenant() {
            Ok(t) => super::saml_login::begin(service, t, return_to).await,
            Err(refusal) => refusal,
        },
        #[cfg(feature = "saml")]
        "/auth/saml/metadata" if get => match tenant() {
            Ok(t) => super::saml_login::metadata(service, t).await,
            Err(refusal) => refusal,
        },
        #[cfg(feature = "saml")]
        SAML_ACS_PATH if *method == Method::POST => {
            let form: HashMap<String, String> = form_urlencoded::parse(body).into_owned().collect();
            let answer = match super::saml_login::finish(service, &form).await {
                Ok(sign_in) => service.complete(sign_in, headers).await,
                Err(refusal) => refusal,
            };
            record_failed_sign_in(service, "saml", answer).await
        }
        #[cfg(not(feature = "saml"))]
        "/auth/saml/login" | "/auth/saml/metadata" | SAML_ACS_PATH => {
            let _ = body;
            Answer::error(
                501,
                "not_built",
                "this marcus was built without SAML: build it with --features saml (needs libxmlsec1-dev, libxml2-dev, libssl-dev, libclang-dev and pkg-config)",
            )
        }
        "/auth/oidc/callback" if get => {
            let answer = match oidc_login::finish(service, &query, headers).await {
                Ok(sign_in) => service.complete(sign_in, headers).await,
                Err(refusal) => refusal.with_cookie(cookies::clear(
                    marcus_identity::login_state::COOKIE,
                    service.secure_cookies,
                )),
            };
            record_failed_sign_in(service, "oidc", answer).await
        }
        "/auth/session" if get => current(service, headers, principal).await,
        "/auth/logout" if *method == Method::POST => sign_out(service, headers).await,
        "/auth/oidc/login" | "/auth/oidc/callback" | "/auth/session" => {
            Answer::error(405, "method_not_allowed", &format!("use GET for {path}"))
        }
        "/auth/logout" => Answer::error(
            405,
            "method_not_allowed",
            "use POST for /auth/logout (with the session's CSRF token in X-CSRF-Token)",
        ),
        _ => Answer::error(404, "not_found", &format!("no route {path}")),
    }
}

/// Records a refused sign-in (`auth.login.failed`) in the server's chain: the provider's
/// answer was refused before a tenant's person could be trusted. A sign-in that succeeded
/// was recorded with its session.
async fn record_failed_sign_in(service: &SsoService, protocol: &str, answer: Answer) -> Answer {
    let status = answer.status();
    if (400..500).contains(&status) {
        let outcome = if matches!(status, 401 | 403) {
            marcus_core::audit::Outcome::Denied
        } else {
            marcus_core::audit::Outcome::Failure
        };
        let action = crate::audit::Action::success("auth.login.failed", "protocol", protocol)
            .with_outcome(outcome)
            .with_details(serde_json::json!({ "status": status }));
        crate::audit::record(
            &*service.storage,
            marcus_identity::tenant::SERVER_SCOPE,
            None,
            action,
        )
        .await;
    }
    answer
}

/// `GET /auth/session`: the signed-in person and the CSRF token their page sends with every
/// state-changing request; `{"signed_in": false}` without a session (a page asks this on
/// every load, signed in or not).
async fn current(
    service: &SsoService,
    headers: &hyper::HeaderMap,
    principal: Option<&Principal>,
) -> Answer {
    let none = || Answer::json(200, &serde_json::json!({ "signed_in": false }));
    if principal.is_none_or(|p| p.verified_by != Verification::Session) {
        return none();
    }
    let Some(secret) = cookies::get(headers, session::COOKIE) else {
        return none();
    };
    match sessions::find(&*service.storage, &secret).await {
        Ok(Some(record)) => Answer::json(
            200,
            &serde_json::json!({
                "signed_in": true,
                "tenant": record.tenant,
                "user": record.user_name,
                "role": record.role.as_str(),
                "protocol": record.protocol,
                "signed_in_at": record.created_at,
                "expires_at": record.expires_at,
                "csrf_token": record.csrf_token,
            }),
        ),
        Ok(None) => none(),
        Err(e) => Answer::error(503, "unavailable", &e.to_string()),
    }
}

/// `POST /auth/logout`: ends the session here and, when the provider offers it, answers
/// where to end the person's session there too.
async fn sign_out(service: &SsoService, headers: &hyper::HeaderMap) -> Answer {
    let ended = match cookies::get(headers, session::COOKIE) {
        Some(secret) => match sessions::end(&*service.storage, &secret).await {
            Ok(ended) => ended,
            Err(e) => return Answer::error(503, "unavailable", &e.to_string()),
        },
        None => None,
    };
    let mut provider_logout = None;
    if let Some(record) = &ended
        && record.protocol == "oidc"
        && let Ok(Some(binding)) = super::bindings::get(&*service.storage, &record.tenant).await
        && let Some(oidc) = binding.oidc
        && let Some(endpoint) = service.metadata.end_session_endpoint(&oidc.issuer).await
    {
        let mut url = endpoint;
        let mut params = form_urlencoded::Serializer::new(String::new());
        params.append_pair("client_id", &oidc.client_id);
        params.append_pair(
            "post_logout_redirect_uri",
            &format!("{}/", service.public_base),
        );
        if let Some(hint) = &record.id_token_hint {
            params.append_pair("id_token_hint", hint);
        }
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&params.finish());
        provider_logout = Some(url);
    }
    Answer::json(
        200,
        &serde_json::json!({
            "signed_out": ended.is_some(),
            "provider_logout_url": provider_logout,
        }),
    )
    .with_cookie(cookies::clear(session::COOKIE, service.secure_cookies))
}
