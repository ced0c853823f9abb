//! The tenant registry in storage (the server scope's `tenants` collection, one record per
//! tenant, id its name): made, listed, disabled and given quotas by `marcus tenant` and the
//! admin API, read by authentication and by the job runner.

use crate::audit::Action;
use crate::capability_error::CapabilityError;
use crate::storage::{Expect, StorageBackend, Write};
use marcus_identity::tenant::{
    self, COLLECTION, DEFAULT_TENANT, Quotas, SERVER_SCOPE, Status, TenantRecord,
};

/// A request about a tenant that cannot be granted as asked (the caller's mistake).
#[derive(Debug)]
pub struct Refused {
    /// HTTP status for the admin API (400, 404, 409).
    pub status: u16,
    /// Why, for people.
    pub message: String,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Refused {}

fn refused(status: u16, message: impl Into<String>) -> anyhow::Error {
    Refused {
        status,
        message: message.into(),
    }
    .into()
}

/// One tenant's record; the default tenant has one even before anybody made it.
pub async fn get(storage: &dyn StorageBackend, name: &str) -> anyhow::Result<Option<TenantRecord>> {
    match storage.get(SERVER_SCOPE, COLLECTION, name).await? {
        Some(doc) => Ok(Some(serde_json::from_str(&doc.data)?)),
        None if name == DEFAULT_TENANT => Ok(Some(TenantRecord::new(
            DEFAULT_TENANT,
            Quotas::default(),
            0,
        ))),
        None => Ok(None),
    }
}

/// Every tenant, the default one first, then by name.
pub async fn list(storage: &dyn StorageBackend) -> anyhow::Result<Vec<TenantRecord>> {
    let mut out: Vec<TenantRecord> =
        crate::storage::all_documents(storage, SERVER_SCOPE, COLLECTION)
            .await?
            .iter()
            .map(|doc| serde_json::from_str(&doc.data))
            .collect::<Result<_, _>>()?;
    if !out.iter().any(|t| t.name == DEFAULT_TENANT) {
        out.push(TenantRecord::new(DEFAULT_TENANT, Quotas::default(), 0));
    }
    out.sort_by(|a, b| {
        (a.name != DEFAULT_TENANT)
            .cmp(&(b.name != DEFAULT_TENANT))
            .then(a.name.cmp(&b.name))
    });
    Ok(out)
}

/// The names of the tenants whose requests are served (their jobs run, their gauges count).
pub async fn active(storage: &dyn StorageBackend) -> anyhow::Result<Vec<String>> {
    Ok(list(storage)
        .await?
        .into_iter()
        .filter(|t| t.status == Status::Active)
        .map(|t| t.name)
        .collect())
}

/// Makes a tenant; a taken name is refused (`409`), a malformed one too (`400`).
pub async fn create(
    storage: &dyn StorageBackend,
    name: &str,
    quotas: Quotas,
) -> anyhow::Result<TenantRecord> {
    tenant::check_name(name).map_err(|why| refused(400, why))?;
    if name == DEFAULT_TENANT {
        return Err(refused(409, "the default tenant always exists"));
    }
    let record = TenantRecord::new(name, quotas, crate::storage::now_ms());
    let data = serde_json::to_string(&record)?;
    let action = Action::success("tenant.create", "tenant", name)
        .with_details(serde_json::json!({ "quotas": record.quotas }));
    let write = Write {
        collection: COLLECTION.into(),
        id: name.into(),
        data,
        expect: Expect::Absent,
    };
    match crate::audit::put(storage, SERVER_SCOPE, name, action, write).await {
        Ok(_) => Ok(record),
        Err(CapabilityError::Conflict(_)) => Err(refused(
            409,
            format!("a tenant named {name:?} exists already"),
        )),
        Err(e) => Err(e.into()),
    }
}

/// Applies `change` to a tenant's record (the default tenant's record is made on its first
/// change), under compare-and-swap so two administrators never lose each other's change.
async fn update(
    storage: &dyn StorageBackend,
    name: &str,
    action: &str,
    change: impl Fn(&mut TenantRecord) -> Result<(), String>,
) -> anyhow::Result<TenantRecord> {
    for _ in 0..5 {
        let found = storage.get(SERVER_SCOPE, COLLECTION, name).await?;
        let (mut record, expect) = match found {
            Some(doc) => (
                serde_json::from_str::<TenantRecord>(&doc.data)?,
                Expect::Version(doc.version),
            ),
            None if name == DEFAULT_TENANT => (
                TenantRecord::new(DEFAULT_TENANT, Quotas::default(), 0),
                Expect::Absent,
            ),
            None => return Err(refused(404, format!("no tenant is named {name:?}"))),
        };
        change(&mut record).map_err(|why| refused(409, why))?;
        let data = serde_json::to_string(&record)?;
        let recorded = Action::success(action, "tenant", name)
            .with_details(serde_json::json!({ "status": record.status, "quotas": record.quotas }));
        let write = Write {
            collection: COLLECTION.into(),
            id: name.into(),
            data,
            expect,
        };
        match crate::audit::put(storage, SERVER_SCOPE, name, recorded, write).await {
            Ok(_) => return Ok(record),
            Err(CapabilityError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    anyhow::bail!("tenant {name:?} kept changing; try again")
}

/// Disables a tenant: its credentials are refused from then on, its data stays.
pub async fn disable(storage: &dyn StorageBackend, name: &str) -> anyhow::Result<TenantRecord> {
    if name == DEFAULT_TENANT {
        return Err(refused(
            409,
            "the default tenant cannot be disabled: it serves requests that name no tenant",
        ));
    }
    update(storage, name, "tenant.disable", |r| {
        r.status = Status::Disabled;
        r.disabled_at.get_or_insert(crate::storage::now_ms());
        Ok(())
    })
    .await
}

/// Serves a disabled tenant again.
pub async fn enable(storage: &dyn StorageBackend, name: &str) -> anyhow::Result<TenantRecord> {
    update(storage, name, "tenant.enable", |r| {
        r.status = Status::Active;
        r.disabled_at = None;
        Ok(())
    })
    .await
}

/// Replaces a tenant's quotas.
pub async fn set_quotas(
    storage: &dyn StorageBackend,
    name: &str,
    quotas: Quotas,
) -> anyhow::Result<TenantRecord> {
    update(storage, name, "tenant.quota", |r| {
        r.quotas = quotas.clone();
        Ok(())
    })
    .await
}
