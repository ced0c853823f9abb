//! `audit_log`: what the audit log costs and how fast it verifies, side by side in one run.
//!
//! - Writes: 8 concurrent writers store one document each time, plainly (`put_many`) and
//!   with its audit record in the same transaction (`change`), on SQLite and on PostgreSQL;
//!   alternating rounds, best of each, with the audited/plain ratio.
//! - Verification: `marcus audit verify`'s reader over 1,000,000 records of one chain in
//!   SQLite (the records are placed with the same rules the host uses).

use marcus_bench::team_infra::{self, PrivateDatabase};
use marcus_core::audit::{Actor, Entry, Outcome, RequestInfo, StoredRecord, Target};
use marcus_host::storage::postgres::PostgresStorage;
use marcus_host::storage::sqlite::{SqliteStorage, SyncMode};
use marcus_host::storage::{Expect, StorageBackend, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const WRITERS: usize = 8;
const MEASURE: Duration = Duration::from_secs(3);
const ROUNDS: usize = 3;
const VERIFY_RECORDS: u64 = 1_000_000;

fn entry(tenant: &str, i: u64) -> Entry {
    Entry {
        id: format!("{i:032x}"),
        at: 1_767_225_600_000 + i,
        tenant: tenant.into(),
        actor: Actor {
            kind: "agent".into(),
            id: format!("agent-{}", i % 8),
            name: None,
            verified_by: "token".into(),
            token_id: Some("tok_0123456789ab".into()),
        },
        action: "task.progress".into(),
        outcome: Outcome::Success,
        target: Target {
            kind: "task".into(),
            id: format!("T-{}", i % 1000),
        },
        request: RequestInfo {
            id: format!("req-{i}"),
            client: "127.0.0.1".into(),
            user_agent: "bench".into(),
            method: "POST".into(),
            path: "/mcp".into(),
        },
        details: serde_json::json!({"tool": "report_task_progress"}),
    }
}

/// Writes per second by `WRITERS` tasks for `MEASURE`, audited or not.
async fn writes_per_sec(storage: Arc<dyn StorageBackend>, audited: bool) -> anyhow::Result<f64> {
    let done = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + MEASURE;
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let (storage, done) = (storage.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            let mut i = 0u64;
            while Instant::now() < until {
                i += 1;
                let write = Write {
                    collection: "tasks".into(),
                    id: format!("w{w}-{}", i % 200),
                    data: format!(r#"{{"status":"in_progress","progress":{i}}}"#),
                    expect: Expect::Any,
                };
                if audited {
                    storage
                        .change(
                            "default",
                            std::slice::from_ref(&write),
                            &[],
                            &entry("default", i),
                        )
                        .await?;
                } else {
                    storage
                        .put_many("default", std::slice::from_ref(&write))
                        .await?;
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(done.load(Ordering::Relaxed) as f64 / MEASURE.as_secs_f64())
}

/// The best plain and audited rates over alternating rounds.
async fn compare(name: &str, storage: Arc<dyn StorageBackend>) -> anyhow::Result<()> {
    let (mut plain, mut audited) = (0f64, 0f64);
    for _ in 0..ROUNDS {
        plain = plain.max(writes_per_sec(storage.clone(), false).await?);
        audited = audited.max(writes_per_sec(storage.clone(), true).await?);
    }
    println!(
        "| {name:<10} | {plain:>10.0} | {audited:>14.0} | {:>5.2}x |",
        audited / plain
    );
    Ok(())
}

/// Builds a chain of `n` records in a fresh SQLite store, then times its verification.
async fn verify_million() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("marcus.db");
    drop(SqliteStorage::open(&path, SyncMode::Normal)?);
    let started = Instant::now();
    {
        let mut conn = rusqlite::Connection::open(&path)?;
        let tx = conn.transaction()?;
        {
            let mut insert = tx.prepare(
                "INSERT INTO audit_log (tenant, seq, id, at, actor, action, outcome, target, body, prev_hash, hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?;
            let mut prev = marcus_core::audit::GENESIS.to_string();
            for seq in 1..=VERIFY_RECORDS {
                let r = StoredRecord::place(&entry("default", seq), seq, &prev);
                insert.execute(rusqlite::params![
                    r.tenant,
                    r.seq as i64,
                    r.id,
                    r.at as i64,
                    r.actor,
                    r.action,
                    r.outcome,
                    r.target,
                    r.body,
                    r.prev_hash,
                    r.hash
                ])?;
                prev = r.hash;
            }
        }
        tx.commit()?;
    }
    let built = started.elapsed();
    let storage = SqliteStorage::open_existing(&path)?;
    let started = Instant::now();
    let verdict = marcus_host::audit::reading::verify(&storage, "default", &[]).await?;
    let took = started.elapsed();
    let summary = verdict
        .map_err(|b| anyhow::anyhow!("the generated chain broke at {}: {}", b.seq, b.reason))?;
    let size = std::fs::metadata(&path)?.len() as f64 / 1e6;
    println!(
        "verify: {} records ({size:.0} MB SQLite) in {:.2} s = {:.0} records/s (placing them took {:.1} s)",
        summary.records,
        took.as_secs_f64(),
        summary.records as f64 / took.as_secs_f64(),
        built.as_secs_f64()
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    // Asked before the runtime starts: the check uses the blocking PostgreSQL client.
    let team = match team_infra::unavailable() {
        None => Ok(PrivateDatabase::create()?),
        Some(why) => Err(why),
    };
    let outcome = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(team
            .as_ref()
            .map(|db| db.url.clone())
            .map_err(Clone::clone)));
    drop(team);
    outcome
}

async fn run(team: Result<String, String>) -> anyhow::Result<()> {
    println!(
        "{WRITERS} writers, one document per write; best of {ROUNDS} alternating rounds of {} s\n",
        MEASURE.as_secs()
    );
    println!("| store      | plain w/s  | with record w/s | ratio |");
    println!("|------------|------------|-----------------|-------|");
    let dir = tempfile::tempdir()?;
    let sqlite = Arc::new(SqliteStorage::open(
        &dir.path().join("marcus.db"),
        SyncMode::Normal,
    )?);
    compare("SQLite", sqlite.clone()).await?;
    sqlite.close().await;
    match team {
        Ok(url) => {
            let pg = Arc::new(PostgresStorage::connect(&url).await?);
            compare("PostgreSQL", pg.clone()).await?;
            pg.close().await;
        }
        Err(why) => println!("| PostgreSQL | skipped: {why} |"),
    }
    println!();
    verify_million().await
}
