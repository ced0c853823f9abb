//! The audit log on the host: every change is written with its record in one transaction
//! (through [`StorageBackend::change`]), by the layer that knows who acted. This module
//! builds the records (the actor from the verified principal, the request from the server),
//! keeps the signing keys, makes the signed checkpoints, and serves the log to readers.
//!
//! [`StorageBackend::change`]: crate::storage::StorageBackend::change

pub mod api;
pub mod checkpoints;
pub mod command;
pub mod keys;
pub mod reading;
pub mod request;

use crate::capability_error::CapResult;
use crate::storage::{Changed, Removal, StorageBackend, Write};
use marcus_core::audit::{Actor, Entry, Outcome, Target};
use marcus_identity::principal::Principal;
use std::sync::{Arc, OnceLock};

pub use request::RequestAudit;

/// Records per checkpoint when nothing says otherwise.
pub const DEFAULT_CHECKPOINT_EVERY: u64 = 1000;

/// The process's audit settings: its keys and how often it checkpoints.
pub struct AuditLog {
    /// Signing and details keys.
    pub keys: keys::AuditKeys,
    /// A checkpoint is made after every this many records of a chain.
    pub checkpoint_every: u64,
}

static LOG: OnceLock<Arc<AuditLog>> = OnceLock::new();

/// Makes `log` this process's audit settings (once, at start; later calls keep the first).
pub fn install(log: AuditLog) -> Arc<AuditLog> {
    LOG.get_or_init(|| Arc::new(log)).clone()
}

/// The process's audit settings, if a server or command installed them.
pub fn installed() -> Option<Arc<AuditLog>> {
    LOG.get().cloned()
}

/// What a record says was done, beside who did it and through which request.
#[derive(Debug, Clone)]
pub struct Action {
    /// Dotted action name: `token.create`, `auth.login.failed`.
    pub name: String,
    /// How it ended.
    pub outcome: Outcome,
    /// What it was done to.
    pub target: Target,
    /// More to keep; fields named like secrets are replaced by their HMAC.
    pub details: serde_json::Value,
}

impl Action {
    /// A successful `name` on `kind/id`.
    pub fn success(name: &str, kind: &str, id: &str) -> Self {
        Self {
            name: name.to_string(),
            outcome: Outcome::Success,
            target: Target {
                kind: kind.to_string(),
                id: id.to_string(),
            },
            details: serde_json::Value::Null,
        }
    }

    /// The same action ending as `outcome`.
    pub fn with_outcome(mut self, outcome: Outcome) -> Self {
        self.outcome = outcome;
        self
    }

    /// The same action with `details`.
    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }
}

/// The actor a principal is (none: nobody was verified).
pub fn actor_of(principal: Option<&Principal>) -> Actor {
    match principal {
        Some(p) => Actor {
            kind: p.kind.as_str().to_string(),
            id: p.subject.clone(),
            name: None,
            verified_by: p.verified_by.as_str().to_string(),
            token_id: p.credential_id.clone(),
        },
        None => Actor {
            kind: "anonymous".into(),
            id: String::new(),
            name: None,
            verified_by: "none".into(),
            token_id: None,
        },
    }
}

/// The record of `action` by `actor` in `tenant`'s chain, made in the current request (or
/// command) as [`request::current`] describes it.
pub fn entry(tenant: &str, actor: Actor, action: Action) -> Entry {
    let request = request::current();
    let details = match installed() {
        Some(log) => marcus_core::audit::redact::redact(action.details, &log.keys.details),
        // No keys (a unit test's store): secrets still never stay readable.
        None => marcus_core::audit::redact::redact(action.details, &request::process_key()),
    };
    Entry {
        id: request::record_id(),
        at: crate::storage::now_ms(),
        tenant: tenant.to_string(),
        actor,
        action: action.name,
        outcome: action.outcome,
        target: action.target,
        request: request.map(|r| r.info.clone()).unwrap_or_default(),
        details,
    }
}

/// Stores `writes` and `removals` in `scope` with the record of `action` in `tenant`'s
/// chain, in one transaction, by the current request's principal; then checkpoints the
/// chain when its turn came.
pub async fn change(
    storage: &dyn StorageBackend,
    scope: &str,
    tenant: &str,
    action: Action,
    writes: &[Write],
    removals: &[Removal],
) -> CapResult<Changed> {
    let principal = request::current().and_then(|r| r.principal());
    change_by(
        storage,
        scope,
        tenant,
        principal.as_ref(),
        action,
        writes,
        removals,
    )
    .await
}

/// [`change`] by `principal` (a person signing in acts before the request has one).
pub async fn change_by(
    storage: &dyn StorageBackend,
    scope: &str,
    tenant: &str,
    principal: Option<&Principal>,
    action: Action,
    writes: &[Write],
    removals: &[Removal],
) -> CapResult<Changed> {
    let record = entry(tenant, actor_of(principal), action);
    let changed = storage.change(scope, writes, removals, &record).await?;
    request::note_recorded();
    checkpoints::after_append(storage, tenant, changed.seq).await;
    Ok(changed)
}

/// One document written under `expect` in `scope`, with its record: [`change`] for the
/// host's own single-document writes.
pub async fn put(
    storage: &dyn StorageBackend,
    scope: &str,
    tenant: &str,
    action: Action,
    write: crate::storage::Write,
) -> CapResult<crate::storage::Document> {
    let mut changed = change(
        storage,
        scope,
        tenant,
        action,
        std::slice::from_ref(&write),
        &[],
    )
    .await?;
    changed.documents.pop().ok_or_else(|| {
        crate::capability_error::CapabilityError::Internal("no document was written".into())
    })
}

/// Stores the record of `action` alone (a refusal, a failed sign-in) in `tenant`'s chain,
/// by `principal` (none: the current request's). A failure to record is logged, not
/// answered: the request it describes is already decided.
pub async fn record(
    storage: &dyn StorageBackend,
    tenant: &str,
    principal: Option<&Principal>,
    action: Action,
) {
    let current = request::current().and_then(|r| r.principal());
    let by = principal.or(current.as_ref());
    let name = action.name.clone();
    let scope = marcus_identity::tenant::SERVER_SCOPE;
    if let Err(e) = change_by(storage, scope, tenant, by, action, &[], &[]).await {
        tracing::error!(action = %name, error = %e, "an audit record could not be stored");
    }
}
