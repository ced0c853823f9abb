//! `marcus:platform/identity` on Spin: the adapter cannot see a listen address and runs
//! behind the app, so it verifies the `Authorization` header the app hands it, with the same
//! `marcus-identity` code and the same stored token records and secret as the native host.
//! The principal's tenant becomes this instance's scope (one request); once a request's
//! credentials fail, the instance serves no storage, cache or realtime call.

use crate::bindings::Error;
use crate::bindings::identity::{AuthError, Guest, Kind, Principal, Role, Verification};
use crate::bindings::storage::{DocumentKey, Expect, Write};
use crate::document_store::{self, DocumentStore};
use crate::{checks, request_scope, settings};
use marcus_identity::digest::ServerSecret;
use marcus_identity::principal as id;
use marcus_identity::record::{
    self, COLLECTION, Rejected, SECRET_ID, SETTINGS_COLLECTION as SECRET_COLLECTION, TokenRecord,
};
use marcus_identity::tenant::{self, SERVER_SCOPE, TenantRecord};

fn required() -> bool {
    settings::configured(settings::AUTH_REQUIRED).is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

impl Guest for crate::Adapter {
    fn current(authorization: Option<String>) -> Result<Option<Principal>, AuthError> {
        let Some(header) = authorization else {
            // Where credentials are required, a request without them establishes no tenant:
            // it reaches only what needs no storage.
            if required() {
                return Ok(None);
            }
            let local = id::Principal::local_admin();
            request_scope::establish_request(&local.tenant);
            return Ok(Some(to_wit(&local)));
        };
        match verify(&header) {
            Ok(Ok(principal)) => {
                request_scope::establish_request(&principal.tenant);
                Ok(Some(to_wit(&principal)))
            }
            Ok(Err(rejected)) => {
                request_scope::refuse();
                Err(AuthError::Unauthorized(rejected.to_string()))
            }
            Err(e) => {
                request_scope::refuse();
                Err(AuthError::Unavailable(format!(
                    "the credential store cannot be read: {e:?}"
                )))
            }
        }
    }
}

/// The principal of a presented header, or why it is refused; an error when storage fails.
/// The secret, the token's record and its tenant's record are the installation's own, read
/// in the server scope.
fn verify(header: &str) -> Result<Result<id::Principal, Rejected>, Error> {
    let token = match record::bearer(header) {
        Ok(token) => token,
        Err(rejected) => return Ok(Err(rejected)),
    };
    // The secret and the token's record in one read.
    let key = |collection: &str, id: &str| DocumentKey {
        collection: collection.to_string(),
        id: id.to_string(),
    };
    let store = document_store::open_in(SERVER_SCOPE)?;
    let [secret, found] = store
        .get_many(&[
            key(SECRET_COLLECTION, SECRET_ID),
            key(COLLECTION, token.lookup()),
        ])?
        .try_into()
        .map_err(|_| Error::Internal("storage answered the wrong number of documents".into()))?;
    // No secret: no token was ever made here, so none can match.
    let Some(secret) = secret.and_then(|doc| ServerSecret::from_document(&doc.data)) else {
        return Ok(Err(Rejected::Unknown));
    };
    let Some((record, version)) = found.and_then(|doc| {
        serde_json::from_str::<TokenRecord>(&doc.data)
            .ok()
            .map(|r| (r, doc.version))
    }) else {
        return Ok(Err(Rejected::Unknown));
    };
    let now = checks::now_ms();
    let principal = match record.verify(&token, &secret, now) {
        Ok(principal) => principal,
        Err(rejected) => return Ok(Err(rejected)),
    };
    if let Err(why) = served(&*store, &principal.tenant)? {
        return Ok(Err(Rejected::TenantUnavailable(why)));
    }
    if record.last_use_due(now) {
        // Spin has no background work: the use is written now, at most every 30 s per
        // token. A lost race means another request just recorded one; nothing to do.
        let mut used = record;
        used.last_used_at = Some(now);
        if let Ok(data) = serde_json::to_string(&used) {
            let _ = store.put(
                &Write {
                    collection: COLLECTION.to_string(),
                    id: used.id.clone(),
                    data,
                    expect: Expect::Version(version),
                },
                now,
            );
        }
    }
    Ok(Ok(principal))
}

/// Whether requests of tenant `name` are served, by its record in the registry (`server`
/// is the server scope's store); `Err` completes "the bearer token's …". A name that is no
/// tenant's (the server scope's, say) is never served, whatever a record claims.
pub fn served(server: &dyn DocumentStore, name: &str) -> Result<Result<(), String>, Error> {
    if let Err(why) = tenant::check_name(name) {
        return Ok(Err(format!("tenant is not valid: {why}")));
    }
    let record = server
        .get(tenant::COLLECTION, name)?
        .map(|doc| {
            serde_json::from_str::<TenantRecord>(&doc.data).map_err(|e| {
                Error::Internal(format!("the record of tenant {name:?} is unreadable: {e}"))
            })
        })
        .transpose()?;
    Ok(tenant::check_served(name, record.as_ref()))
}

fn to_wit(p: &id::Principal) -> Principal {
    Principal {
        tenant: p.tenant.clone(),
        subject: p.subject.clone(),
        kind: match p.kind {
            id::Kind::User => Kind::User,
            id::Kind::Agent => Kind::Agent,
            id::Kind::Service => Kind::Service,
        },
        role: match p.role {
            id::Role::Admin => Role::Admin,
            id::Role::Member => Role::Member,
            id::Role::Agent => Role::Agent,
            id::Role::Viewer => Role::Viewer,
        },
        scopes: p.scopes.clone(),
        verified_by: match p.verified_by {
            id::Verification::Token => Verification::Token,
            id::Verification::Oidc => Verification::Oidc,
            id::Verification::Session => Verification::Session,
            id::Verification::Local => Verification::Local,
            id::Verification::Unverified => Verification::Unverified,
        },
        agent_ids: p.agent_ids.clone(),
    }
}
