//! Sign-ins in progress, kept in storage until the identity provider answers (on this host
//! or another of the team), then taken exactly once.

use crate::capability_error::CapabilityError;
use crate::storage::{Expect, StorageBackend, now_ms};
use marcus_identity::login_state::{COLLECTION, LoginState};
use marcus_identity::tenant::SERVER_SCOPE;

/// Records a sign-in in progress.
pub async fn remember(storage: &dyn StorageBackend, state: &LoginState) -> anyhow::Result<()> {
    storage
        .put(
            SERVER_SCOPE,
            COLLECTION,
            &state.id,
            &serde_json::to_string(state)?,
            Expect::Absent,
        )
        .await?;
    Ok(())
}

/// Takes the sign-in with this id: answered once, removed in the same step (of two answers
/// racing for it, one gets it), none when unknown or expired.
pub async fn take(storage: &dyn StorageBackend, id: &str) -> anyhow::Result<Option<LoginState>> {
    let Some(doc) = storage.get(SERVER_SCOPE, COLLECTION, id).await? else {
        return Ok(None);
    };
    match storage
        .delete(SERVER_SCOPE, COLLECTION, id, Some(doc.version))
        .await
    {
        Ok(true) => {}
        Ok(false) => return Ok(None),
        Err(CapabilityError::Conflict(_) | CapabilityError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    let state: LoginState = serde_json::from_str(&doc.data)?;
    Ok((now_ms() < state.expires_at).then_some(state))
}
