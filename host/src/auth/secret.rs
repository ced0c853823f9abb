//! The installation's token secret, kept in storage so every host of a team shares it (a
//! token made on one host verifies on all) and `marcus migrate` carries it with the tokens.
//! Made once, by whichever host or command needs it first; a race to make it is settled by
//! the storage's create-only write.

use crate::storage::{Expect, StorageBackend};
use marcus_identity::digest::{SECRET_BYTES, ServerSecret};
use marcus_identity::record::{SECRET_ID as ID, SETTINGS_COLLECTION as COLLECTION};
use marcus_identity::tenant::SERVER_SCOPE;
use rand::RngCore;

/// The stored secret, if a token was ever made here.
pub async fn load(storage: &dyn StorageBackend) -> anyhow::Result<Option<ServerSecret>> {
    let Some(doc) = storage.get(SERVER_SCOPE, COLLECTION, ID).await? else {
        return Ok(None);
    };
    ServerSecret::from_document(&doc.data)
        .map(Some)
        .ok_or_else(|| anyhow::anyhow!("the stored token secret ({COLLECTION}/{ID}) is damaged"))
}

/// The stored secret, or a new one stored now (when the first token is made).
pub async fn load_or_create(storage: &dyn StorageBackend) -> anyhow::Result<ServerSecret> {
    for _ in 0..3 {
        if let Some(secret) = load(storage).await? {
            return Ok(secret);
        }
        let mut bytes = [0u8; SECRET_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        let secret = ServerSecret::from_bytes(bytes);
        match storage
            .put(
                SERVER_SCOPE,
                COLLECTION,
                ID,
                &secret.to_document(),
                Expect::Absent,
            )
            .await
        {
            Ok(_) => return Ok(secret),
            // Another host made it first: read theirs.
            Err(crate::capability_error::CapabilityError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    anyhow::bail!("the token secret could not be read or made")
}
