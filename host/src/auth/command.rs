//! `marcus token`: tokens made, listed and revoked on the data directory's database (or
//! `DATABASE_URL`), with the same records and secret the server uses.

use super::{secret, tokens};
use crate::backends::storage_choice::StorageChoice;
use crate::cli::{TokenAction, TokenArgs};
use marcus_identity::lifetime;
use marcus_identity::principal::Role;

/// Runs one `marcus token` action.
pub async fn run(args: TokenArgs) -> anyhow::Result<()> {
    let storage =
        StorageChoice::open_for_command(args.data_dir.clone(), args.database_url.as_deref())
            .await?;
    let outcome = act(&args.action, &*storage).await;
    storage.close().await;
    outcome
}

async fn act(
    action: &TokenAction,
    storage: &dyn crate::storage::StorageBackend,
) -> anyhow::Result<()> {
    match action {
        TokenAction::Create {
            role,
            agents,
            name,
            expires,
            tenant,
            server_admin,
            quiet,
        } => {
            let role = Role::parse(role).map_err(anyhow::Error::msg)?;
            let lifetime_ms = lifetime::parse(expires.as_deref()).map_err(anyhow::Error::msg)?;
            let secret = secret::load_or_create(storage).await?;
            let issued = tokens::create(
                storage,
                &secret,
                tokens::Request {
                    name,
                    role,
                    agent_ids: agents.clone(),
                    lifetime_ms,
                    tenant: tenant
                        .as_deref()
                        .unwrap_or(marcus_identity::tenant::DEFAULT_TENANT),
                    server_admin: *server_admin,
                    owner: None,
                },
            )
            .await?;
            if *quiet {
                println!("{}", issued.token.reveal());
            } else {
                println!(
                    "token {} ({}, tenant {}, role {}{}{}), expires {}:\n\n  {}\n\nIt is shown only now: Marcus keeps a keyed digest of it, not the token.",
                    issued.record.id,
                    issued.record.name,
                    issued.record.tenant,
                    issued.record.role.as_str(),
                    if issued.record.server_admin {
                        ", server administrator"
                    } else {
                        ""
                    },
                    if issued.record.agent_ids.is_empty() {
                        String::new()
                    } else {
                        format!(", acts as {}", issued.record.agent_ids.join(", "))
                    },
                    when(issued.record.expires_at),
                    issued.token.reveal()
                );
            }
        }
        TokenAction::List { tenant } => {
            let all: Vec<_> = tokens::list(storage)
                .await?
                .into_iter()
                .filter(|r| tenant.as_ref().is_none_or(|t| &r.tenant == t))
                .collect();
            if all.is_empty() {
                println!("no tokens (marcus token create makes one)");
            }
            println!(
                "{:<13} {:<16} {:<12} {:<7} {:<20} {:<30} {:<30} state",
                "id", "name", "tenant", "role", "agents", "expires", "last used"
            );
            let now = crate::storage::now_ms();
            for r in all {
                let state = r.state(now);
                println!(
                    "{:<13} {:<16} {:<12} {:<7} {:<20} {:<30} {:<30} {state}",
                    r.id,
                    r.name,
                    r.tenant,
                    if r.server_admin {
                        "admin*"
                    } else {
                        r.role.as_str()
                    },
                    if r.agent_ids.is_empty() {
                        "-".to_string()
                    } else {
                        r.agent_ids.join(",")
                    },
                    when(r.expires_at),
                    r.last_used_at.map_or("never".to_string(), when),
                );
            }
        }
        TokenAction::Revoke { token } => {
            let r = tokens::revoke(storage, token).await?;
            println!("revoked token {} ({})", r.id, r.name);
        }
    }
    Ok(())
}

/// A time as an HTTP date (`Tue, 14 Nov 2023 22:13:20 GMT`).
fn when(ms: u64) -> String {
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms))
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_print_as_http_dates() {
        assert_eq!(
            super::when(1_700_000_000_000),
            "Tue, 14 Nov 2023 22:13:20 GMT"
        );
    }
}
