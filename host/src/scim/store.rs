//! A tenant's provisioned users and groups in storage: every user write keeps the user-name
//! index (which makes names unique per tenant across hosts) in the same atomic write, a
//! deactivated or deleted user's sessions and tokens end at once, and a group's members must be users
//! of the tenant.

use crate::audit::Action;
use crate::capability_error::CapabilityError;
use crate::storage::{Expect, Removal, StorageBackend, Write};
use marcus_identity::group::{self, GroupRecord};
use marcus_identity::scim::error::ScimError;
use marcus_identity::user::{self, LINKS_COLLECTION, NAMES_COLLECTION, UserRecord, user_name_key};

/// A stored record with the version storage gave it.
pub struct Versioned<T> {
    /// The record.
    pub record: T,
    /// Its version (the SCIM `ETag`).
    pub version: u64,
}

/// Why a change did not happen: the client's mistake, or the store's.
pub enum Failure {
    /// Answered to the client as it is.
    Scim(ScimError),
    /// Storage failed; `503`.
    Store(anyhow::Error),
}

impl From<ScimError> for Failure {
    fn from(e: ScimError) -> Self {
        Failure::Scim(e)
    }
}

impl From<CapabilityError> for Failure {
    fn from(e: CapabilityError) -> Self {
        Failure::Store(e.into())
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Store(e)
    }
}

impl From<serde_json::Error> for Failure {
    fn from(e: serde_json::Error) -> Self {
        Failure::Store(e.into())
    }
}

fn conflict(e: &Failure) -> bool {
    matches!(e, Failure::Store(e) if matches!(e.downcast_ref::<CapabilityError>(), Some(CapabilityError::Conflict(_))))
}

/// Runs `attempt` again while another writer wins the race for the same records.
async fn retrying<T, F, Fut>(attempt: F) -> Result<T, Failure>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, Failure>>,
{
    for _ in 0..5 {
        match attempt().await {
            Err(e) if conflict(&e) => continue,
            other => return other,
        }
    }
    Err(Failure::Store(anyhow::anyhow!(
        "the record kept changing while being written; try again"
    )))
}

/// A stored document as a record with its version.
fn versioned<T: serde::de::DeserializeOwned>(
    doc: &crate::storage::Document,
) -> Result<Versioned<T>, Failure> {
    Ok(Versioned {
        record: serde_json::from_str(&doc.data)?,
        version: doc.version,
    })
}

/// Every record of `collection` in `tenant`.
async fn all<T: serde::de::DeserializeOwned>(
    storage: &dyn StorageBackend,
    tenant: &str,
    collection: &str,
) -> Result<Vec<Versioned<T>>, Failure> {
    crate::storage::all_documents(storage, tenant, collection)
        .await?
        .iter()
        .map(versioned)
        .collect()
}

/// Record `id` of `collection` in `tenant`, or SCIM's 404 naming `what`.
async fn one<T: serde::de::DeserializeOwned>(
    storage: &dyn StorageBackend,
    tenant: &str,
    collection: &str,
    id: &str,
    what: &str,
) -> Result<Versioned<T>, Failure> {
    match storage.get(tenant, collection, id).await? {
        Some(doc) => versioned(&doc),
        None => Err(ScimError::not_found(format!("no {what} {id}")).into()),
    }
}

/// Every user of `tenant`.
pub async fn users(
    storage: &dyn StorageBackend,
    tenant: &str,
) -> Result<Vec<Versioned<UserRecord>>, Failure> {
    all(storage, tenant, user::COLLECTION).await
}

/// Every group of `tenant`.
pub async fn groups(
    storage: &dyn StorageBackend,
    tenant: &str,
) -> Result<Vec<Versioned<GroupRecord>>, Failure> {
    all(storage, tenant, group::COLLECTION).await
}

/// One user.
pub async fn user(
    storage: &dyn StorageBackend,
    tenant: &str,
    id: &str,
) -> Result<Versioned<UserRecord>, Failure> {
    one(storage, tenant, user::COLLECTION, id, "user").await
}

/// One group.
pub async fn group(
    storage: &dyn StorageBackend,
    tenant: &str,
    id: &str,
) -> Result<Versioned<GroupRecord>, Failure> {
    one(storage, tenant, group::COLLECTION, id, "group").await
}

/// The index write that gives `user` its name: refused with `409 uniqueness` when another
/// live user of the tenant holds the name; an entry left by a renamed or deleted user is
/// taken over.
async fn name_write(
    storage: &dyn StorageBackend,
    tenant: &str,
    user: &UserRecord,
) -> Result<Write, Failure> {
    let key = user_name_key(&user.user_name);
    let data = serde_json::json!({ "user_id": user.id }).to_string();
    let expect = match storage.get(tenant, NAMES_COLLECTION, &key).await? {
        None => Expect::Absent,
        Some(doc) => {
            let holder = serde_json::from_str::<serde_json::Value>(&doc.data)?
                .get("user_id")
                .and_then(|v| v.as_str())
                .map(str::to_string)
                .unwrap_or_default();
            if holder != user.id
                && let Some(other) = storage.get(tenant, user::COLLECTION, &holder).await?
                && let Ok(other) = serde_json::from_str::<UserRecord>(&other.data)
                && user_name_key(&other.user_name) == key
            {
                return Err(ScimError::uniqueness(format!(
                    "the userName {:?} is taken",
                    user.user_name
                ))
                .into());
            }
            Expect::Version(doc.version)
        }
    };
    Ok(Write {
        collection: NAMES_COLLECTION.into(),
        id: key,
        data,
        expect,
    })
}

/// Creates a user from a SCIM body (already parsed by the caller).
pub async fn create_user(
    storage: &dyn StorageBackend,
    tenant: &str,
    mut user: UserRecord,
) -> Result<Versioned<UserRecord>, Failure> {
    user.id = crate::sso::sessions::random_secret()[..22].to_string();
    user.tenant = tenant.to_string();
    retrying(|| {
        let user = user.clone();
        async move {
            let name = name_write(storage, tenant, &user).await?;
            let writes = [
                Write {
                    collection: user::COLLECTION.into(),
                    id: user.id.clone(),
                    data: serde_json::to_string(&user)?,
                    expect: Expect::Absent,
                },
                name,
            ];
            let action = Action::success("scim.user.create", "user", &user.id)
                .with_details(serde_json::json!({ "user_name": user.user_name }));
            let stored =
                crate::audit::change(storage, tenant, tenant, action, &writes, &[]).await?;
            Ok(Versioned {
                version: stored.documents[0].version,
                record: user,
            })
        }
    })
    .await
}

/// Replaces user `id` with what `change` makes of it (PUT, PATCH), keeping its name index;
/// a user deactivated by the change loses every session at once.
pub async fn update_user(
    storage: &dyn StorageBackend,
    tenant: &str,
    id: &str,
    if_match: Option<&str>,
    change: impl Fn(&UserRecord) -> Result<UserRecord, ScimError>,
) -> Result<Versioned<UserRecord>, Failure> {
    let updated = retrying(|| async {
        let current = user(storage, tenant, id).await?;
        marcus_identity::scim::meta::check_if_match(if_match, current.version)?;
        let mut next = change(&current.record)?;
        next.id = current.record.id.clone();
        next.tenant = tenant.to_string();
        let mut writes = vec![Write {
            collection: user::COLLECTION.into(),
            id: next.id.clone(),
            data: serde_json::to_string(&next)?,
            expect: Expect::Version(current.version),
        }];
        if user_name_key(&next.user_name) != user_name_key(&current.record.user_name) {
            writes.push(name_write(storage, tenant, &next).await?);
        }
        let action = Action::success("scim.user.update", "user", &next.id).with_details(
            serde_json::json!({ "user_name": next.user_name, "active": next.active }),
        );
        let stored = crate::audit::change(storage, tenant, tenant, action, &writes, &[]).await?;
        Ok((
            current.record.active,
            Versioned {
                version: stored.documents[0].version,
                record: next,
            },
        ))
    })
    .await?;
    let (was_active, user) = updated;
    if was_active && !user.record.active {
        shut_out(storage, tenant, &user.record).await?;
    }
    Ok(user)
}

/// Deletes user `id`: its record, its indexes, its group memberships and its sessions.
pub async fn delete_user(
    storage: &dyn StorageBackend,
    tenant: &str,
    id: &str,
) -> Result<(), Failure> {
    let current = user(storage, tenant, id).await?;
    shut_out(storage, tenant, &current.record).await?;
    let removal = |collection: &str, id: String| Removal {
        collection: collection.into(),
        id,
        expected: None,
    };
    let mut removals = vec![
        removal(user::COLLECTION, id.to_string()),
        removal(NAMES_COLLECTION, user_name_key(&current.record.user_name)),
    ];
    removals.extend(
        current
            .record
            .links
            .iter()
            .map(|link| removal(LINKS_COLLECTION, user::link_key(link))),
    );
    let action = Action::success("scim.user.delete", "user", id)
        .with_details(serde_json::json!({ "user_name": current.record.user_name }));
    let changed = crate::audit::change(storage, tenant, tenant, action, &[], &removals).await?;
    if !changed.removed.first().copied().unwrap_or(false) {
        return Err(ScimError::not_found(format!("no user {id}")).into());
    }
    for g in groups(storage, tenant).await? {
        if g.record.has_member(id) {
            let _ = update_group(storage, tenant, &g.record.id, None, |group| {
                let mut group = group.clone();
                group.members.retain(|m| m.value != id);
                Ok(group)
            })
            .await;
        }
    }
    Ok(())
}

/// Ends everything a deactivated or deleted user holds: their sessions and the tokens
/// they made, at once.
async fn shut_out(
    storage: &dyn StorageBackend,
    tenant: &str,
    user: &UserRecord,
) -> Result<(), Failure> {
    crate::sso::sessions::end_all_of(storage, tenant, &user.id).await?;
    crate::auth::tokens::revoke_owned_by(storage, tenant, &user.user_name).await?;
    Ok(())
}

/// Refuses members that are not users of the tenant.
async fn check_members(
    storage: &dyn StorageBackend,
    tenant: &str,
    group: &GroupRecord,
) -> Result<(), Failure> {
    for member in &group.members {
        if storage
            .get(tenant, user::COLLECTION, &member.value)
            .await?
            .is_none()
        {
            return Err(ScimError::invalid_value(format!(
                "member {:?} is no user of this organisation",
                member.value
            ))
            .into());
        }
    }
    Ok(())
}

/// Creates a group from a SCIM body.
pub async fn create_group(
    storage: &dyn StorageBackend,
    tenant: &str,
    mut group: GroupRecord,
) -> Result<Versioned<GroupRecord>, Failure> {
    group.id = crate::sso::sessions::random_secret()[..22].to_string();
    group.tenant = tenant.to_string();
    check_members(storage, tenant, &group).await?;
    let write = Write {
        collection: group::COLLECTION.into(),
        id: group.id.clone(),
        data: serde_json::to_string(&group)?,
        expect: Expect::Absent,
    };
    let action = Action::success("scim.group.create", "group", &group.id)
        .with_details(serde_json::json!({ "display_name": group.display_name }));
    let stored = crate::audit::put(storage, tenant, tenant, action, write).await?;
    Ok(Versioned {
        version: stored.version,
        record: group,
    })
}

/// Replaces group `id` with what `change` makes of it.
pub async fn update_group(
    storage: &dyn StorageBackend,
    tenant: &str,
    id: &str,
    if_match: Option<&str>,
    change: impl Fn(&GroupRecord) -> Result<GroupRecord, ScimError>,
) -> Result<Versioned<GroupRecord>, Failure> {
    retrying(|| async {
        let current = group(storage, tenant, id).await?;
        marcus_identity::scim::meta::check_if_match(if_match, current.version)?;
        let mut next = change(&current.record)?;
        next.id = current.record.id.clone();
        next.tenant = tenant.to_string();
        check_members(storage, tenant, &next).await?;
        let write = Write {
            collection: group::COLLECTION.into(),
            id: id.into(),
            data: serde_json::to_string(&next)?,
            expect: Expect::Version(current.version),
        };
        let action = Action::success("scim.group.update", "group", id).with_details(
            serde_json::json!({ "display_name": next.display_name, "members": next.members.len() }),
        );
        let stored = crate::audit::put(storage, tenant, tenant, action, write).await?;
        Ok(Versioned {
            version: stored.version,
            record: next,
        })
    })
    .await
}

/// Deletes group `id`.
pub async fn delete_group(
    storage: &dyn StorageBackend,
    tenant: &str,
    id: &str,
) -> Result<(), Failure> {
    let removal = Removal {
        collection: group::COLLECTION.into(),
        id: id.into(),
        expected: None,
    };
    let action = Action::success("scim.group.delete", "group", id);
    let changed = crate::audit::change(
        storage,
        tenant,
        tenant,
        action,
        &[],
        std::slice::from_ref(&removal),
    )
    .await?;
    if !changed.removed.first().copied().unwrap_or(false) {
        return Err(ScimError::not_found(format!("no group {id}")).into());
    }
    Ok(())
}
