//! Token records in storage: made (the token is shown once, only its keyed digest is kept),
//! listed, revoked, and looked up to verify a presented token. Used by `marcus token` on the
//! data directory or database and by the server.

use crate::audit::Action;
use crate::capability_error::CapabilityError;
use crate::storage::{Expect, StorageBackend, Write};
use marcus_identity::digest::ServerSecret;
use marcus_identity::principal::{Principal, Role};
use marcus_identity::record::{COLLECTION, Rejected, TokenRecord};
use marcus_identity::tenant::SERVER_SCOPE;
use marcus_identity::token::Token;
use rand::RngCore;
use std::sync::Arc;

/// A token just made: the token itself (to show once) and its stored record.
pub struct Issued {
    /// The token; nowhere else after this.
    pub token: Token,
    /// What was stored.
    pub record: TokenRecord,
}

/// What a new token is for.
pub struct Request<'a> {
    /// A name for people.
    pub name: &'a str,
    /// Its role.
    pub role: Role,
    /// The agents an agent token may act as.
    pub agent_ids: Vec<String>,
    /// How long it lives, in milliseconds.
    pub lifetime_ms: u64,
    /// Its tenant, which must be served.
    pub tenant: &'a str,
    /// Whether it also administers the installation (admin tokens only).
    pub server_admin: bool,
    /// The signed-in person making it, whose deactivation revokes it.
    pub owner: Option<&'a str>,
}

/// A request for a token that cannot be granted as asked (the caller's mistake, not the
/// store's).
#[derive(Debug)]
pub struct Invalid(pub String);

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Invalid {}

fn invalid(why: impl Into<String>) -> anyhow::Error {
    Invalid(why.into()).into()
}

fn now_ms() -> u64 {
    crate::storage::now_ms()
}

/// Makes and stores a token.
pub async fn create(
    storage: &dyn StorageBackend,
    secret: &ServerSecret,
    request: Request<'_>,
) -> anyhow::Result<Issued> {
    marcus_core::names::check_name("token name", request.name).map_err(|e| invalid(e.message))?;
    for id in &request.agent_ids {
        marcus_core::names::check_name("agent id", id).map_err(|e| invalid(e.message))?;
    }
    match (request.role, request.agent_ids.is_empty()) {
        (Role::Agent, true) => {
            return Err(invalid(
                "an agent token needs the agent id it acts as (--agent ID, or agent_ids)",
            ));
        }
        (Role::Agent, false) => {}
        (role, false) => {
            return Err(invalid(format!(
                "a {} token acts as any agent; agent ids bind agent tokens only",
                role.as_str()
            )));
        }
        (_, true) => {}
    }
    if request.server_admin && request.role != Role::Admin {
        return Err(invalid(
            "only an admin token can be a server administrator's (--role admin --server-admin)",
        ));
    }
    let tenant_record = crate::tenants::registry::get(storage, request.tenant)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Err(why) = marcus_identity::tenant::check_served(request.tenant, tenant_record.as_ref())
    {
        return Err(invalid(format!(
            "{why}; `marcus tenant list` shows the tenants"
        )));
    }
    // A lookup part already taken (about one in 62^12) is drawn again.
    for _ in 0..3 {
        let mut random = [0u8; 64];
        rand::rng().fill_bytes(&mut random);
        let token = Token::from_random(&random)?;
        let mut record = TokenRecord::new(
            &token,
            secret,
            request.name,
            request.role,
            request.agent_ids.clone(),
            now_ms(),
            request.lifetime_ms,
        );
        record.tenant = request.tenant.to_string();
        record.server_admin = request.server_admin;
        record.owner = request.owner.map(str::to_string);
        let data = serde_json::to_string(&record)?;
        let action =
            Action::success("token.create", "token", &record.id).with_details(serde_json::json!({
                "name": record.name,
                "role": record.role,
                "agent_ids": record.agent_ids,
                "server_admin": record.server_admin,
                "expires_at": record.expires_at,
            }));
        let write = Write {
            collection: COLLECTION.into(),
            id: record.id.clone(),
            data,
            expect: Expect::Absent,
        };
        match crate::audit::put(storage, SERVER_SCOPE, &record.tenant, action, write).await {
            Ok(_) => return Ok(Issued { token, record }),
            Err(CapabilityError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    anyhow::bail!("could not store a new token")
}

/// Every token record, oldest first.
pub async fn list(storage: &dyn StorageBackend) -> anyhow::Result<Vec<TokenRecord>> {
    let mut out: Vec<TokenRecord> =
        crate::storage::all_documents(storage, SERVER_SCOPE, COLLECTION)
            .await?
            .iter()
            .map(|doc| serde_json::from_str(&doc.data))
            .collect::<Result<_, _>>()?;
    out.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
    Ok(out)
}

/// Revokes the token with this id, or the only one with this name; answers its record.
pub async fn revoke(storage: &dyn StorageBackend, id_or_name: &str) -> anyhow::Result<TokenRecord> {
    let all = list(storage).await?;
    let found: Vec<&TokenRecord> = match all.iter().find(|r| r.id == id_or_name) {
        Some(r) => vec![r],
        None => all.iter().filter(|r| r.name == id_or_name).collect(),
    };
    let record = match found.as_slice() {
        [one] => (*one).clone(),
        [] => anyhow::bail!(
            "no token has the id or name {id_or_name:?} (marcus token list shows them)"
        ),
        many => anyhow::bail!(
            "{} tokens are named {id_or_name:?}; revoke one by its id ({})",
            many.len(),
            many.iter()
                .map(|r| r.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    if record.revoked_at.is_some() {
        return Ok(record);
    }
    // Compare-and-swap on the version read, so a concurrent last-use write is not lost
    // over a revocation (or the other way round): on a conflict, read and revoke again.
    for _ in 0..5 {
        let Some(doc) = storage.get(SERVER_SCOPE, COLLECTION, &record.id).await? else {
            anyhow::bail!("token {} disappeared while being revoked", record.id);
        };
        let mut current: TokenRecord = serde_json::from_str(&doc.data)?;
        current.revoked_at = Some(now_ms());
        let data = serde_json::to_string(&current)?;
        let action = Action::success("token.revoke", "token", &current.id)
            .with_details(serde_json::json!({ "name": current.name }));
        let write = Write {
            collection: COLLECTION.into(),
            id: current.id.clone(),
            data,
            expect: Expect::Version(doc.version),
        };
        match crate::audit::put(storage, SERVER_SCOPE, &current.tenant, action, write).await {
            Ok(_) => return Ok(current),
            Err(CapabilityError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    anyhow::bail!(
        "token {} kept changing while being revoked; try again",
        record.id
    )
}

/// Revokes every live token of `tenant` that the person `user_name` made (they were
/// deactivated or deleted); answers how many.
pub async fn revoke_owned_by(
    storage: &dyn StorageBackend,
    tenant: &str,
    user_name: &str,
) -> anyhow::Result<usize> {
    let key = marcus_identity::user::user_name_key(user_name);
    let owned: Vec<TokenRecord> = list(storage)
        .await?
        .into_iter()
        .filter(|r| r.tenant == tenant && r.revoked_at.is_none())
        .filter(|r| {
            r.owner
                .as_deref()
                .is_some_and(|o| marcus_identity::user::user_name_key(o) == key)
        })
        .collect();
    for record in &owned {
        revoke(storage, &record.id).await?;
    }
    Ok(owned.len())
}

/// Whether a usable admin token exists.
pub async fn any_usable_admin(storage: &dyn StorageBackend) -> anyhow::Result<bool> {
    let now = now_ms();
    Ok(list(storage)
        .await?
        .iter()
        .any(|r| r.role == Role::Admin && r.revoked_at.is_none() && r.expires_at > now))
}

/// The principal of a presented token, or why it is refused; an error only when the store
/// cannot be read. A use is written back at most every 30 seconds, in the background, so the
/// request does not wait for it.
pub async fn verify(
    storage: &Arc<dyn StorageBackend>,
    secret: &ServerSecret,
    token: &Token,
) -> Result<Result<Principal, Rejected>, CapabilityError> {
    let Some(doc) = storage
        .get(SERVER_SCOPE, COLLECTION, token.lookup())
        .await?
    else {
        return Ok(Err(Rejected::Unknown));
    };
    let Ok(record) = serde_json::from_str::<TokenRecord>(&doc.data) else {
        return Ok(Err(Rejected::Unknown));
    };
    let now = now_ms();
    let verdict = record.verify(token, secret, now);
    if verdict.is_ok() && record.last_use_due(now) {
        let mut used = record;
        used.last_used_at = Some(now);
        if let Ok(data) = serde_json::to_string(&used) {
            let storage = storage.clone();
            tokio::spawn(async move {
                // Best effort: a lost race means another request recorded a use just now.
                let _ = storage
                    .put(
                        SERVER_SCOPE,
                        COLLECTION,
                        &used.id,
                        &data,
                        Expect::Version(doc.version),
                    )
                    .await;
            });
        }
    }
    Ok(verdict)
}
