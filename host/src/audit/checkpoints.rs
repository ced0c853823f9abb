//! Signed checkpoints of each tenant's chain: after every `checkpoint_every` records (by
//! whichever host appended the record whose turn it is) and on a timer for chains that grew
//! less. A checkpoint follows the tenant's last one (its signature is part of the new one's
//! content); one made by another host at the same moment wins and this one is dropped.

use super::AuditLog;
use crate::capability_error::CapResult;
use crate::storage::StorageBackend;
use marcus_core::audit::Checkpoint;
use std::sync::Arc;
use std::time::Duration;

/// How often the timer checkpoints chains that grew since their last checkpoint.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(3600);

/// After a record was appended at `seq` to `tenant`'s chain: a checkpoint when its turn came.
pub async fn after_append(storage: &dyn StorageBackend, tenant: &str, seq: u64) {
    let Some(log) = super::installed() else {
        return;
    };
    if log.checkpoint_every == 0 || !seq.is_multiple_of(log.checkpoint_every) {
        return;
    }
    if let Err(e) = checkpoint(storage, &log, tenant).await {
        tracing::warn!(%tenant, error = %e, "an audit checkpoint could not be made");
    }
}

/// Signs `tenant`'s chain head when it moved past the last checkpoint; the checkpoint's
/// sequence number when one was stored.
pub async fn checkpoint(
    storage: &dyn StorageBackend,
    log: &AuditLog,
    tenant: &str,
) -> CapResult<Option<u64>> {
    let Some(head) = storage.audit_head(tenant).await? else {
        return Ok(None);
    };
    if head.seq <= head.checkpointed {
        return Ok(None);
    }
    let signed = Checkpoint {
        tenant: tenant.to_string(),
        seq: head.seq,
        hash: head.hash,
        at: crate::storage::now_ms(),
        prev_signature: head.last_signature,
    }
    .sign(&log.keys.signing);
    Ok(storage
        .audit_add_checkpoint(&signed)
        .await?
        .then_some(head.seq))
}

/// Checkpoints every chain that grew since its last checkpoint; how many were made.
pub async fn checkpoint_all(storage: &dyn StorageBackend, log: &AuditLog) -> CapResult<usize> {
    let mut made = 0;
    for tenant in storage.audit_tenants().await? {
        if checkpoint(storage, log, &tenant).await?.is_some() {
            made += 1;
        }
    }
    Ok(made)
}

/// Checkpoints every chain each `interval` until the process ends.
pub fn spawn_timer(storage: Arc<dyn StorageBackend>, log: Arc<AuditLog>, interval: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            match checkpoint_all(&*storage, &log).await {
                Ok(n) if n > 0 => tracing::debug!(checkpoints = n, "audit chains checkpointed"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "audit checkpoints could not be made"),
            }
        }
    });
}
