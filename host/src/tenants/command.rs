//! `marcus tenant`: tenants made, listed, disabled and limited on the data directory's
//! database (or `DATABASE_URL`), in the registry the server reads.

use super::registry;
use crate::backends::storage_choice::StorageChoice;
use crate::cli::{QuotaArgs, TenantAction, TenantArgs};
use marcus_identity::tenant::{Quotas, Status, TenantRecord};

/// Runs one `marcus tenant` action.
pub async fn run(args: TenantArgs) -> anyhow::Result<()> {
    let storage =
        StorageChoice::open_for_command(args.data_dir.clone(), args.database_url.as_deref())
            .await?;
    let outcome = act(&args.action, &*storage).await;
    storage.close().await;
    outcome
}

/// The quotas the options give.
pub fn quotas(args: &QuotaArgs) -> Quotas {
    Quotas {
        projects: args.projects,
        tasks: args.tasks,
        stored_mb: args.stored_mb,
        requests_per_minute: args.requests_per_minute,
    }
}

async fn act(
    action: &TenantAction,
    storage: &dyn crate::storage::StorageBackend,
) -> anyhow::Result<()> {
    match action {
        TenantAction::Create { name, quotas: q } => {
            let record = registry::create(storage, name, quotas(q)).await?;
            println!(
                "tenant {} made ({}); `marcus token create --tenant {} --role admin --name NAME` makes its first token",
                record.name,
                describe(&record.quotas),
                record.name
            );
        }
        TenantAction::List => {
            println!("{:<24} {:<9} quotas", "tenant", "state");
            for t in registry::list(storage).await? {
                println!("{:<24} {:<9} {}", t.name, state(&t), describe(&t.quotas));
            }
        }
        TenantAction::Disable { name } => {
            let t = registry::disable(storage, name).await?;
            println!(
                "tenant {} disabled: its credentials are refused (within 5 s on running servers); its data stays",
                t.name
            );
        }
        TenantAction::Enable { name } => {
            let t = registry::enable(storage, name).await?;
            println!("tenant {} is served again", t.name);
        }
        TenantAction::Quota { name, quotas: q } => {
            let t = registry::set_quotas(storage, name, quotas(q)).await?;
            println!("tenant {}: {}", t.name, describe(&t.quotas));
        }
    }
    Ok(())
}

fn state(t: &TenantRecord) -> &'static str {
    match t.status {
        Status::Active => "active",
        Status::Disabled => "disabled",
    }
}

/// Quotas for people: `projects 20, tasks 5000` or `no limits`.
pub fn describe(q: &Quotas) -> String {
    let parts: Vec<String> = [
        ("projects", q.projects),
        ("tasks", q.tasks),
        ("MB stored", q.stored_mb),
        ("requests/min", q.requests_per_minute),
    ]
    .iter()
    .filter_map(|(what, n)| n.map(|n| format!("{what} {n}")))
    .collect();
    if parts.is_empty() {
        "no limits".into()
    } else {
        parts.join(", ")
    }
}
