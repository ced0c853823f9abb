//! `marcus:platform/identity` on Spin: the adapter cannot see a listen address and runs
//! behind the app, so it verifies the `Authorization` header the app hands it, with the same
//! `marcus-identity` code and the same stored token records and secret as the native host.
//! Once a request's credentials fail, this instance (one request) serves no storage, cache
//! or realtime call.

use crate::bindings::Error;
use crate::bindings::identity::{AuthError, Guest, Kind, Principal, Role, Verification};
use crate::bindings::storage::{DocumentKey, Expect, Write};
use crate::{checks, document_store, settings};
use marcus_identity::digest::ServerSecret;
use marcus_identity::principal as id;
use marcus_identity::record::{
    self, COLLECTION, Rejected, SECRET_ID, SETTINGS_COLLECTION as SECRET_COLLECTION, TokenRecord,
};
use std::cell::Cell;

thread_local! {
    static CREDENTIALS_FAILED: Cell<bool> = const { Cell::new(false) };
}

/// Refuses a capability call of a request whose credentials failed.
pub fn refuse_after_failed_credentials() -> Result<(), Error> {
    if CREDENTIALS_FAILED.with(Cell::get) {
        return Err(Error::Unavailable(
            "this request's credentials were refused; it is served nothing".into(),
        ));
    }
    Ok(())
}

fn required() -> bool {
    settings::configured(settings::AUTH_REQUIRED).is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

impl Guest for crate::Adapter {
    fn current(authorization: Option<String>) -> Result<Option<Principal>, AuthError> {
        let Some(header) = authorization else {
            return Ok((!required()).then(|| to_wit(&id::Principal::local_admin())));
        };
        match verify(&header) {
            Ok(Ok(principal)) => Ok(Some(to_wit(&principal))),
            Ok(Err(rejected)) => {
                CREDENTIALS_FAILED.with(|f| f.set(true));
                Err(AuthError::Unauthorized(rejected.to_string()))
            }
            Err(e) => {
                CREDENTIALS_FAILED.with(|f| f.set(true));
                Err(AuthError::Unavailable(format!(
                    "the credential store cannot be read: {e:?}"
                )))
            }
        }
    }
}

/// The principal of a presented header, or why it is refused; an error when storage fails.
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
    let store = document_store::open()?;
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
    let verdict = record.verify(&token, &secret, now);
    if verdict.is_ok() && record.last_use_due(now) {
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
    Ok(verdict)
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
