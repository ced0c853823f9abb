//! An exposed server with no admin token makes one at its first start and prints it once,
//! so the person who started it can get in (and make the other tokens); it is never written
//! to the log.

use super::tokens::{self, Request};
use crate::storage::StorageBackend;
use marcus_identity::lifetime;
use marcus_identity::principal::Role;

/// The name of the token made this way.
pub const NAME: &str = "first-admin";

/// Makes the first admin token when no usable admin token exists; answers it to print.
pub async fn ensure(storage: &dyn StorageBackend) -> anyhow::Result<Option<tokens::Issued>> {
    if tokens::any_usable_admin(storage).await? {
        return Ok(None);
    }
    let secret = super::secret::load_or_create(storage).await?;
    let issued = tokens::create(
        storage,
        &secret,
        Request {
            name: NAME,
            role: Role::Admin,
            agent_ids: Vec::new(),
            lifetime_ms: lifetime::parse(None).map_err(anyhow::Error::msg)?,
            // The way in administers the installation too: it makes the tenants.
            tenant: marcus_identity::tenant::DEFAULT_TENANT,
            server_admin: true,
            owner: None,
        },
    )
    .await?;
    Ok(Some(issued))
}
