//! Browser sessions in storage: made at sign-in (a new secret every time, so a session id
//! planted before sign-in is worth nothing after it), looked up on each request, ended at
//! sign-out or when the user is deactivated.

use crate::audit::Action;
use crate::storage::{Expect, FieldFilter, Removal, StorageBackend, Write, now_ms};
use marcus_identity::principal::Role;
use marcus_identity::session::{self, COLLECTION, SessionRecord};
use marcus_identity::tenant::SERVER_SCOPE;
use marcus_identity::user::UserRecord;

/// A session just made: the secret for the cookie (nowhere else after this) and its record.
pub struct Started {
    /// The cookie's value.
    pub secret: String,
    /// What was stored.
    pub record: SessionRecord,
}

/// 32 random bytes, base64url: a cookie secret, a CSRF token, an OIDC state.
pub fn random_secret() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Starts a session for `user` with `role`.
pub async fn start(
    storage: &dyn StorageBackend,
    user: &UserRecord,
    role: Role,
    protocol: &str,
    id_token_hint: Option<String>,
) -> anyhow::Result<Started> {
    let secret = random_secret();
    let now = now_ms();
    let record = SessionRecord {
        id: session::digest(&secret),
        tenant: user.tenant.clone(),
        user_id: user.id.clone(),
        user_name: user.user_name.clone(),
        role,
        protocol: protocol.to_string(),
        csrf_token: random_secret(),
        created_at: now,
        expires_at: now + session::LIFETIME_MS,
        id_token_hint,
    };
    // The sign-in is recorded with the session it opens, as the person who signed in.
    let action = Action::success("auth.login", "session", short(&record.id))
        .with_details(serde_json::json!({ "protocol": protocol, "role": role }));
    let write = Write {
        collection: COLLECTION.into(),
        id: record.id.clone(),
        data: serde_json::to_string(&record)?,
        expect: Expect::Absent,
    };
    crate::audit::change_by(
        storage,
        SERVER_SCOPE,
        &record.tenant,
        Some(&record.principal()),
        action,
        std::slice::from_ref(&write),
        &[],
    )
    .await?;
    Ok(Started { secret, record })
}

/// The part of a session's id records name it by (the id is a digest of the cookie, never
/// the cookie itself).
pub fn short(id: &str) -> &str {
    id.get(..16).unwrap_or(id)
}

/// The live session whose cookie carries `secret`; an expired one is removed.
pub async fn find(
    storage: &dyn StorageBackend,
    secret: &str,
) -> crate::capability_error::CapResult<Option<SessionRecord>> {
    let id = session::digest(secret);
    let Some(doc) = storage.get(SERVER_SCOPE, COLLECTION, &id).await? else {
        return Ok(None);
    };
    let Ok(record) = serde_json::from_str::<SessionRecord>(&doc.data) else {
        return Ok(None);
    };
    if !record.live(now_ms()) {
        let _ = storage.delete(SERVER_SCOPE, COLLECTION, &id, None).await;
        return Ok(None);
    }
    Ok(Some(record))
}

/// Ends the session whose cookie carries `secret`; answers it when there was one.
pub async fn end(
    storage: &dyn StorageBackend,
    secret: &str,
) -> anyhow::Result<Option<SessionRecord>> {
    let found = find(storage, secret).await?;
    if let Some(record) = &found {
        let removal = Removal {
            collection: COLLECTION.into(),
            id: record.id.clone(),
            expected: None,
        };
        crate::audit::change_by(
            storage,
            SERVER_SCOPE,
            &record.tenant,
            Some(&record.principal()),
            Action::success("auth.logout", "session", short(&record.id)),
            &[],
            std::slice::from_ref(&removal),
        )
        .await?;
    }
    Ok(found)
}

/// Ends every session of user `user_id` in `tenant` (deactivated or deleted); answers how
/// many there were.
pub async fn end_all_of(
    storage: &dyn StorageBackend,
    tenant: &str,
    user_id: &str,
) -> anyhow::Result<usize> {
    let filters = [FieldFilter {
        field: "user_id".into(),
        value: serde_json::to_string(user_id)?,
    }];
    let mut ended = 0;
    for doc in crate::storage::all_matching(storage, SERVER_SCOPE, COLLECTION, &filters).await? {
        let Ok(record) = serde_json::from_str::<SessionRecord>(&doc.data) else {
            continue;
        };
        if record.tenant == tenant {
            storage
                .delete(SERVER_SCOPE, COLLECTION, &doc.id, None)
                .await?;
            ended += 1;
        }
    }
    Ok(ended)
}

/// Ends every session in `tenant` that signed in with `protocol` (its provider was
/// unbound); answers how many there were.
pub async fn end_all_in(
    storage: &dyn StorageBackend,
    tenant: &str,
    protocol: &str,
) -> anyhow::Result<usize> {
    let filters = [FieldFilter {
        field: "tenant".into(),
        value: serde_json::to_string(tenant)?,
    }];
    let mut ended = 0;
    for doc in crate::storage::all_matching(storage, SERVER_SCOPE, COLLECTION, &filters).await? {
        let Ok(record) = serde_json::from_str::<SessionRecord>(&doc.data) else {
            continue;
        };
        if record.protocol == protocol {
            storage
                .delete(SERVER_SCOPE, COLLECTION, &doc.id, None)
                .await?;
            ended += 1;
        }
    }
    Ok(ended)
}
