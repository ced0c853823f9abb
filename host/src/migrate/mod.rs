//! `marcus migrate`: copies every collection between SQLite and PostgreSQL, in id order and
//! in batches (memory stays bounded whatever the size), keeping versions and timestamps, then
//! verifies counts and content checksums on both sides.
//!
//! Safe by default: a target that already holds documents is refused unless `--merge` (skip
//! identical documents, report conflicting ones) or `--overwrite`. While a migration runs,
//! the target records its source in `marcus_meta`; if the run is interrupted (Ctrl-C, kill),
//! running the same command again recognises its own partial copy, finishes it without
//! duplicates and verifies it.

pub mod progress;
pub mod verify;

use crate::backends::storage_choice::StorageChoice;
use crate::cli::MigrateArgs;
use crate::storage::sqlite::SyncMode;
use crate::storage::{ImportMode, ImportOutcome, StorageBackend};
use progress::{CollectionProgress, Style};
use serde_json::json;
use std::time::Instant;
use verify::CollectionCheck;

/// The `marcus_meta` key a target carries while a migration into it is unfinished.
pub const IN_PROGRESS_KEY: &str = "migration_in_progress";

/// Per-collection figures of a run.
#[derive(Debug, Default)]
struct CollectionReport {
    /// The tenant (or the server scope) the collection belongs to.
    tenant: String,
    /// The collection.
    collection: String,
    /// How it is named in the report: `tenant/collection`.
    name: String,
    outcome: ImportOutcome,
    check: CollectionCheck,
}

/// Runs the command; an error (including a failed verification) exits non-zero.
pub async fn run(args: MigrateArgs) -> anyhow::Result<()> {
    let data_dir = crate::data_dir::resolve(args.data_dir.clone())?;
    let database_url = std::env::var("DATABASE_URL").ok();
    let from = StorageChoice::parse(&args.from, &data_dir, database_url.as_deref())
        .map_err(|e| anyhow::anyhow!("--from: {e}"))?;
    let to = StorageChoice::parse(&args.to, &data_dir, database_url.as_deref())
        .map_err(|e| anyhow::anyhow!("--to: {e}"))?;
    if from.describe() == to.describe() {
        anyhow::bail!("--from and --to are the same store ({})", from.describe());
    }
    if !(1..=crate::storage::MAX_PAGE).contains(&args.batch_size) {
        anyhow::bail!(
            "--batch-size must be from 1 to {}, got {}",
            crate::storage::MAX_PAGE,
            args.batch_size
        );
    }
    let style = Style::detect(args.quiet || args.json);
    let say = |line: String| {
        if !args.quiet && !args.json {
            eprintln!("{line}");
        }
    };

    let source = from
        .open_source()
        .await
        .map_err(|e| anyhow::anyhow!("source {}: {e:#}", from.describe()))?;
    let target = to
        .open(SyncMode::Normal)
        .await
        .map_err(|e| anyhow::anyhow!("target {}: {e:#}", to.describe()))?;

    // Every tenant's collections, and the installation's own records, each in its scope.
    let mut collections: Vec<(String, String)> = Vec::new();
    for tenant in scopes(&*source).await? {
        for c in source.list_collections(&tenant).await? {
            collections.push((tenant.clone(), c));
        }
    }
    let mut totals = Vec::with_capacity(collections.len());
    for (tenant, c) in &collections {
        totals.push(source.count(tenant, c, &[]).await?);
    }
    let source_docs: u64 = totals.iter().sum();
    let mut target_docs = 0;
    for tenant in scopes(&*target).await? {
        target_docs += target.stats(&tenant).await?.documents;
    }
    let marker = target.meta(IN_PROGRESS_KEY).await?;
    let resuming = marker.as_deref() == Some(from.describe().as_str());
    let mode = if args.overwrite {
        ImportMode::Overwrite
    } else {
        ImportMode::Merge
    };
    if target_docs > 0 && !resuming && !args.merge && !args.overwrite {
        anyhow::bail!(
            "the target {} is not empty ({target_docs} documents); use --merge to add to it \
             (identical documents are skipped, conflicting ones reported) or --overwrite to \
             replace what it has",
            to.describe()
        );
    }

    if args.dry_run {
        let plan: Vec<_> = collections
            .iter()
            .zip(&totals)
            .map(|((t, c), n)| json!({"tenant": t, "collection": c, "documents": n}))
            .collect();
        if args.json {
            println!(
                "{}",
                json!({"dry_run": true, "from": from.describe(), "to": to.describe(),
                       "target_documents": target_docs, "resuming": resuming,
                       "mode": if args.overwrite { "overwrite" } else { "merge" },
                       "collections": plan, "documents": source_docs})
            );
        } else {
            println!(
                "would copy {source_docs} documents from {} to {} (target has {target_docs}{})",
                from.describe(),
                to.describe(),
                if resuming {
                    "; resuming an interrupted migration"
                } else {
                    ""
                }
            );
            for ((t, c), n) in collections.iter().zip(&totals) {
                println!("  {t}/{c}: {n}");
            }
        }
        return Ok(());
    }

    if resuming {
        say(format!(
            "resuming the interrupted migration from {}",
            from.describe()
        ));
    }
    target
        .set_meta(IN_PROGRESS_KEY, Some(&from.describe()))
        .await?;
    let started = Instant::now();
    let mut reports = Vec::with_capacity(collections.len());
    for ((tenant, collection), total) in collections.iter().zip(&totals) {
        let name = format!("{tenant}/{collection}");
        let outcome = copy_collection(
            &*source,
            &*target,
            tenant,
            collection,
            &name,
            *total,
            args.batch_size,
            mode,
            style,
        )
        .await
        .map_err(|e| anyhow::anyhow!("copying {name}: {e:#}"))?;
        reports.push(CollectionReport {
            tenant: tenant.clone(),
            collection: collection.clone(),
            name,
            outcome,
            ..Default::default()
        });
    }
    let copy_secs = started.elapsed().as_secs_f64();

    say("verifying counts and checksums".into());
    // Documents the source lacks are expected only where the user chose to add to a
    // non-empty target; a plain run (or its resumption) must produce an exact copy.
    let allow_extra = args.merge || args.overwrite || (target_docs > 0 && !resuming);
    let mut failures = Vec::new();
    for report in &mut reports {
        report.check = verify::check_collection(
            &*source,
            &*target,
            &report.tenant,
            &report.collection,
            args.batch_size,
        )
        .await?;
        if !report.check.passed(allow_extra) || !report.outcome.conflicts.is_empty() {
            failures.push(report.name.clone());
        }
    }
    if failures.is_empty() {
        target.set_meta(IN_PROGRESS_KEY, None).await?;
    }
    let total_secs = started.elapsed().as_secs_f64();
    let copied: u64 = reports.iter().map(|r| r.outcome.written).sum();
    let docs_per_sec = source_docs as f64 / copy_secs.max(1e-9);

    if args.json {
        let per: Vec<_> = reports
            .iter()
            .map(|r| {
                json!({"tenant": r.tenant, "collection": r.collection,
                       "source_documents": r.check.source_count,
                       "target_documents": r.check.target_count,
                       "written": r.outcome.written, "skipped": r.outcome.skipped,
                       "conflicts": r.outcome.conflicts.iter().take(100).collect::<Vec<_>>(),
                       "conflict_count": r.outcome.conflicts.len(),
                       "missing": r.check.missing, "different": r.check.different,
                       "extra": r.check.extra,
                       "source_checksum": r.check.source_checksum,
                       "target_checksum": r.check.target_checksum,
                       "verified": !failures.contains(&r.name)})
            })
            .collect();
        println!(
            "{}",
            json!({"from": from.describe(), "to": to.describe(), "resumed": resuming,
                   "mode": if args.overwrite { "overwrite" } else { "merge" },
                   "documents": source_docs, "written": copied,
                   "copy_seconds": copy_secs, "total_seconds": total_secs,
                   "documents_per_second": docs_per_sec,
                   "verified": failures.is_empty(), "failed_collections": failures,
                   "collections": per})
        );
    } else if !args.quiet {
        println!(
            "copied {source_docs} documents ({copied} written) from {} to {} in {copy_secs:.1} s ({docs_per_sec:.0} documents/s)",
            from.describe(),
            to.describe()
        );
        for r in &reports {
            let status = if failures.contains(&r.name) {
                "MISMATCH"
            } else {
                "verified"
            };
            println!(
                "  {:<20} {:>9} docs  written {:>9}  skipped {:>9}  conflicts {:>5}  sha256 {}  {status}",
                r.name,
                r.check.source_count,
                r.outcome.written,
                r.outcome.skipped,
                r.outcome.conflicts.len(),
                &r.check.source_checksum[..16],
            );
        }
    }
    source.close().await;
    target.close().await;
    if !failures.is_empty() {
        let details: Vec<String> = reports
            .iter()
            .filter(|r| failures.contains(&r.name))
            .map(|r| {
                format!(
                    "{}: source {} / target {} documents, {} missing, {} different, {} extra, {} conflicts{}",
                    r.name,
                    r.check.source_count,
                    r.check.target_count,
                    r.check.missing,
                    r.check.different,
                    r.check.extra,
                    r.outcome.conflicts.len(),
                    r.outcome
                        .conflicts
                        .first()
                        .map(|id| format!(" (first: {id})"))
                        .unwrap_or_default()
                )
            })
            .collect();
        anyhow::bail!("verification failed for {}", details.join("; "));
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn copy_collection(
    source: &dyn StorageBackend,
    target: &dyn StorageBackend,
    tenant: &str,
    collection: &str,
    name: &str,
    total: u64,
    batch: u32,
    mode: ImportMode,
    style: Style,
) -> anyhow::Result<ImportOutcome> {
    let mut progress = CollectionProgress::start(style, name, total);
    let mut outcome = ImportOutcome::default();
    let mut after: Option<String> = None;
    loop {
        let docs = source
            .scan(tenant, collection, after.as_deref(), batch)
            .await?;
        if docs.is_empty() {
            break;
        }
        let part = target.import(tenant, &docs, mode).await?;
        outcome.written += part.written;
        outcome.skipped += part.skipped;
        outcome.conflicts.extend(part.conflicts);
        progress.advance(docs.len() as u64);
        after = docs.last().map(|d| d.id.clone());
        if docs.len() < batch as usize {
            break;
        }
    }
    progress.finish();
    Ok(outcome)
}

/// The scopes a store keeps documents in: the installation's own records, then every tenant
/// of its registry (the default tenant among them), so a migration carries each tenant's
/// documents into the same tenant.
async fn scopes(store: &dyn StorageBackend) -> anyhow::Result<Vec<String>> {
    let mut out = vec![marcus_identity::tenant::SERVER_SCOPE.to_string()];
    out.extend(
        crate::tenants::registry::list(store)
            .await?
            .into_iter()
            .map(|t| t.name),
    );
    Ok(out)
}
