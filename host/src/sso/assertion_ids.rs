//! SAML assertion ids already used to sign in, so a captured response cannot sign anyone in
//! a second time (SAML libraries leave this to the service provider). Kept in storage until
//! the assertion expires, so every host of a team refuses the replay.

use crate::capability_error::CapabilityError;
use crate::storage::{Expect, StorageBackend, now_ms};
use marcus_identity::tenant::SERVER_SCOPE;

/// The server-scope collection of used assertion ids.
pub const COLLECTION: &str = "saml_assertions";

/// Records assertion `id` of `issuer` as used until `expires_at_ms`; `false` when it was
/// used before (a replay). Two hosts racing with the same assertion: one records it.
pub async fn first_use(
    storage: &dyn StorageBackend,
    issuer: &str,
    id: &str,
    expires_at_ms: u64,
) -> anyhow::Result<bool> {
    let key = marcus_identity::session::digest(&format!("{issuer}\n{id}"));
    let data = serde_json::json!({ "expires_at": expires_at_ms, "used_at": now_ms() }).to_string();
    match storage
        .put(SERVER_SCOPE, COLLECTION, &key, &data, Expect::Absent)
        .await
    {
        Ok(_) => Ok(true),
        Err(CapabilityError::Conflict(_)) => Ok(false),
        Err(e) => Err(e.into()),
    }
}
