//! Tenants' identity-provider bindings in storage (the server scope): read by the sign-in
//! routes, written by `marcus sso`.

use crate::audit::Action;
use crate::capability_error::CapabilityError;
use crate::storage::{Expect, StorageBackend, Write};
use marcus_identity::sso_binding::{COLLECTION, SsoBinding};
use marcus_identity::tenant::SERVER_SCOPE;

/// `tenant`'s binding, when it has one.
pub async fn get(storage: &dyn StorageBackend, tenant: &str) -> anyhow::Result<Option<SsoBinding>> {
    match storage.get(SERVER_SCOPE, COLLECTION, tenant).await? {
        Some(doc) => Ok(Some(serde_json::from_str(&doc.data)?)),
        None => Ok(None),
    }
}

/// Changes `tenant`'s binding with `change` (starting from an empty one), retrying when
/// another writer changed it meanwhile; answers what was stored.
pub async fn update(
    storage: &dyn StorageBackend,
    tenant: &str,
    change: impl Fn(&mut SsoBinding),
) -> anyhow::Result<SsoBinding> {
    for _ in 0..5 {
        let current = storage.get(SERVER_SCOPE, COLLECTION, tenant).await?;
        let (mut binding, expect) = match &current {
            Some(doc) => (
                serde_json::from_str::<SsoBinding>(&doc.data)?,
                Expect::Version(doc.version),
            ),
            None => (
                SsoBinding {
                    tenant: tenant.to_string(),
                    oidc: None,
                    saml: None,
                    updated_at: 0,
                },
                Expect::Absent,
            ),
        };
        change(&mut binding);
        binding.updated_at = crate::storage::now_ms();
        let data = serde_json::to_string(&binding)?;
        // The provider's metadata is long and public; its secrets are replaced by their HMAC.
        let mut details = serde_json::to_value(&binding)?;
        if let Some(saml) = details.get_mut("saml").and_then(|s| s.as_object_mut()) {
            saml.remove("idp_metadata_xml");
        }
        let action = Action::success("sso.update", "tenant", tenant).with_details(details);
        let write = Write {
            collection: COLLECTION.into(),
            id: tenant.into(),
            data,
            expect,
        };
        match crate::audit::put(storage, SERVER_SCOPE, tenant, action, write).await {
            Ok(_) => return Ok(binding),
            Err(CapabilityError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    anyhow::bail!("the single sign-on settings of {tenant:?} kept changing; try again")
}

/// Every tenant's binding, by tenant name.
pub async fn list(storage: &dyn StorageBackend) -> anyhow::Result<Vec<SsoBinding>> {
    let mut out: Vec<SsoBinding> = crate::storage::all_documents(storage, SERVER_SCOPE, COLLECTION)
        .await?
        .iter()
        .map(|doc| serde_json::from_str(&doc.data))
        .collect::<Result<_, _>>()?;
    out.sort_by(|a, b| a.tenant.cmp(&b.tenant));
    Ok(out)
}
