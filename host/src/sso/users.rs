//! The user behind a sign-in: found by the identity-provider account it came from, else by
//! its user name (a user SCIM provisioned signs in for the first time), else created; a
//! deactivated user is refused.

use crate::capability_error::CapabilityError;
use crate::storage::{Expect, StorageBackend, Write, now_ms};
use marcus_identity::user::{
    COLLECTION, Email, LINKS_COLLECTION, NAMES_COLLECTION, SsoLink, UserRecord, link_key,
    user_name_key,
};

/// What the identity provider said about the person.
#[derive(Debug, Clone, Default)]
pub struct Profile {
    /// The user name to give a new user (the e-mail address, else the provider's name for
    /// them, else the subject).
    pub user_name: String,
    /// The name shown.
    pub display_name: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
}

/// Why a sign-in gets no user.
#[derive(Debug)]
pub enum Refused {
    /// The user exists and was deactivated.
    Deactivated(String),
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::Deactivated(name) => write!(
                f,
                "the user {name:?} is deactivated in this organisation; ask its administrator"
            ),
        }
    }
}

/// The user `link` signs in as in `tenant`, created on first sign-in, with the sign-in
/// recorded.
pub async fn signed_in(
    storage: &dyn StorageBackend,
    tenant: &str,
    link: &SsoLink,
    profile: &Profile,
) -> anyhow::Result<Result<UserRecord, Refused>> {
    for _ in 0..5 {
        let found = match storage
            .get(tenant, LINKS_COLLECTION, &link_key(link))
            .await?
        {
            Some(doc) => user_of_index(storage, tenant, &doc.data).await?,
            None => match storage
                .get(tenant, NAMES_COLLECTION, &user_name_key(&profile.user_name))
                .await?
            {
                Some(doc) => user_of_index(storage, tenant, &doc.data).await?,
                None => None,
            },
        };
        let outcome = match found {
            Some((user, version)) => record_sign_in(storage, tenant, user, version, link).await,
            None => create(storage, tenant, link, profile).await,
        };
        match outcome {
            Ok(user) if !user.active => return Ok(Err(Refused::Deactivated(user.user_name))),
            Ok(user) => return Ok(Ok(user)),
            // Another sign-in or provisioning changed it meanwhile: look again.
            Err(e) if is_conflict(&e) => continue,
            Err(e) => return Err(e),
        }
    }
    anyhow::bail!("the user kept changing during sign-in; try again")
}

fn is_conflict(e: &anyhow::Error) -> bool {
    matches!(
        e.downcast_ref::<CapabilityError>(),
        Some(CapabilityError::Conflict(_))
    )
}

/// The user an index document points to, with its version.
async fn user_of_index(
    storage: &dyn StorageBackend,
    tenant: &str,
    index: &str,
) -> anyhow::Result<Option<(UserRecord, u64)>> {
    let index: serde_json::Value = serde_json::from_str(index)?;
    let Some(user_id) = index.get("user_id").and_then(|v| v.as_str()) else {
        return Ok(None);
    };
    match storage.get(tenant, COLLECTION, user_id).await? {
        Some(doc) => Ok(Some((serde_json::from_str(&doc.data)?, doc.version))),
        None => Ok(None),
    }
}

/// Records a sign-in of an existing user and binds `link` to it when it is new.
async fn record_sign_in(
    storage: &dyn StorageBackend,
    tenant: &str,
    mut user: UserRecord,
    version: u64,
    link: &SsoLink,
) -> anyhow::Result<UserRecord> {
    if !user.active {
        return Ok(user);
    }
    let now = now_ms();
    user.last_login_at = Some(now);
    let mut writes = Vec::new();
    if !user.links.contains(link) {
        user.links.push(link.clone());
        user.updated_at = now;
        writes.push(Write {
            collection: LINKS_COLLECTION.into(),
            id: link_key(link),
            data: serde_json::json!({ "user_id": user.id }).to_string(),
            expect: Expect::Absent,
        });
    }
    writes.push(Write {
        collection: COLLECTION.into(),
        id: user.id.clone(),
        data: serde_json::to_string(&user)?,
        expect: Expect::Version(version),
    });
    storage.put_many(tenant, &writes).await?;
    Ok(user)
}

/// Creates the user of a first sign-in, its name and its link in one atomic write.
async fn create(
    storage: &dyn StorageBackend,
    tenant: &str,
    link: &SsoLink,
    profile: &Profile,
) -> anyhow::Result<UserRecord> {
    let now = now_ms();
    let user = UserRecord {
        id: crate::sso::sessions::random_secret()[..22].to_string(),
        tenant: tenant.to_string(),
        user_name: profile.user_name.clone(),
        external_id: None,
        display_name: profile.display_name.clone(),
        given_name: None,
        family_name: None,
        emails: profile
            .email
            .iter()
            .map(|value| Email {
                value: value.clone(),
                kind: Some("work".into()),
                primary: true,
            })
            .collect(),
        active: true,
        links: vec![link.clone()],
        created_at: now,
        updated_at: now,
        last_login_at: Some(now),
    };
    let index = serde_json::json!({ "user_id": user.id }).to_string();
    storage
        .put_many(
            tenant,
            &[
                Write {
                    collection: COLLECTION.into(),
                    id: user.id.clone(),
                    data: serde_json::to_string(&user)?,
                    expect: Expect::Absent,
                },
                Write {
                    collection: NAMES_COLLECTION.into(),
                    id: user_name_key(&user.user_name),
                    data: index.clone(),
                    expect: Expect::Absent,
                },
                Write {
                    collection: LINKS_COLLECTION.into(),
                    id: link_key(link),
                    data: index,
                    expect: Expect::Absent,
                },
            ],
        )
        .await?;
    Ok(user)
}
