//! `marcus audit`: the log read, verified, checkpointed and pruned on the data directory's
//! database (or `DATABASE_URL`), by scripts as much as people: exit status 1 when a chain
//! does not verify.

use super::keys::AuditKeys;
use super::{AuditLog, DEFAULT_CHECKPOINT_EVERY, checkpoints, reading};
use crate::backends::storage_choice::StorageChoice;
use crate::cli::{AuditAction, AuditArgs};
use crate::storage::StorageBackend;

/// Runs one `marcus audit` action.
pub async fn run(args: AuditArgs) -> anyhow::Result<()> {
    let data_dir = crate::data_dir::resolve(args.data_dir.clone())?;
    if let AuditAction::Key = args.action {
        println!("{}", AuditKeys::load(&data_dir, false)?.public_key());
        return Ok(());
    }
    let storage =
        StorageChoice::open_for_command(Some(data_dir.clone()), args.database_url.as_deref())
            .await?;
    let outcome = act(&args.action, &*storage, &data_dir).await;
    storage.close().await;
    outcome
}

async fn act(
    action: &AuditAction,
    storage: &dyn StorageBackend,
    data_dir: &std::path::Path,
) -> anyhow::Result<()> {
    match action {
        AuditAction::Export { tenant, since, .. } => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            let mut total = 0;
            for t in reading::tenants(storage, tenant.as_deref()).await? {
                total += reading::export(storage, &t, *since, &mut out).await?;
            }
            eprintln!("{total} records exported");
        }
        AuditAction::Verify {
            tenant,
            public_keys,
        } => {
            let trusted = if public_keys.is_empty() {
                match AuditKeys::load(data_dir, false) {
                    Ok(keys) => vec![keys.public_key()],
                    Err(e) => anyhow::bail!(
                        "{e}; pass --public-key with the key that signs this log's checkpoints"
                    ),
                }
            } else {
                for k in public_keys {
                    marcus_core::audit::checkpoint::public_key(k)
                        .map_err(|e| anyhow::anyhow!("--public-key {k}: {e}"))?;
                }
                public_keys.clone()
            };
            let mut broken = Vec::new();
            for t in reading::tenants(storage, tenant.as_deref()).await? {
                match reading::verify(storage, &t, &trusted).await? {
                    Ok(s) => println!(
                        "{t}: intact: {} records ({}–{}), {} signed checkpoints{}",
                        s.records,
                        s.first_seq.unwrap_or(0),
                        s.last_seq.unwrap_or(0),
                        s.checkpoints,
                        if s.unsigned_tail > 0 {
                            format!("; the last {} are not signed yet", s.unsigned_tail)
                        } else {
                            String::new()
                        }
                    ),
                    Err(b) => {
                        println!("{t}: BROKEN at sequence number {}: {}", b.seq, b.reason);
                        broken.push(t);
                    }
                }
            }
            if !broken.is_empty() {
                anyhow::bail!("the audit log of {} does not verify", broken.join(", "));
            }
        }
        AuditAction::Checkpoint { tenant } => {
            let log = AuditLog {
                keys: AuditKeys::load(data_dir, false)?,
                checkpoint_every: DEFAULT_CHECKPOINT_EVERY,
            };
            for t in reading::tenants(storage, tenant.as_deref()).await? {
                match checkpoints::checkpoint(storage, &log, &t).await? {
                    Some(seq) => println!("{t}: signed through {seq}"),
                    None => println!("{t}: nothing new to sign"),
                }
            }
        }
        AuditAction::Prune { tenant, before_seq } => {
            let removed = storage.audit_prune(tenant, *before_seq).await?;
            println!(
                "{tenant}: {removed} records removed (only records behind the last checkpoint are ever removed)"
            );
        }
        AuditAction::Key => unreachable!("answered before the store is opened"),
    }
    Ok(())
}
