//! `migrate_bench`: generates Marcus SQLite databases of 100k and 1M documents, migrates each
//! to a private PostgreSQL database and back with `marcus migrate`, and prints documents/s
//! and the migrating process's peak RSS, in one run. `--documents N` picks other sizes;
//! `--generate-only PATH --documents N` just writes a database (the generator command).

use marcus_bench::marcus_server::marcus_binary;
use marcus_bench::team_infra::{self, PrivateDatabase};
use marcus_host::storage::sqlite::{SqliteStorage, SyncMode};
use marcus_host::storage::{Document, ImportMode, StorageBackend};
use marcus_identity::tenant::DEFAULT_TENANT;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

/// Collections the generated documents are spread over, as on a busy board.
const COLLECTIONS: [&str; 5] = ["events", "tasks", "progress", "decisions", "agents"];
const WRITE_BATCH: usize = 1000;

/// Writes `n` documents of about 250 bytes into a new Marcus database at `path`.
async fn generate(path: &Path, n: usize) -> anyhow::Result<()> {
    let _ = std::fs::remove_file(path);
    let store = SqliteStorage::open(path, SyncMode::Normal)?;
    let mut batch = Vec::with_capacity(WRITE_BATCH);
    for i in 0..n {
        let collection = COLLECTIONS[i % COLLECTIONS.len()];
        let status = ["todo", "in_progress", "done"][i % 3];
        batch.push(Document {
            collection: collection.to_string(),
            id: format!("{collection}-{i:08}"),
            data: serde_json::json!({
                "id": format!("{collection}-{i:08}"),
                "project_id": format!("proj-{}", i % 17),
                "kind": "generated",
                "status": status,
                "n": i,
                "ratio": (i % 1000) as f64 / 7.0,
                "note": "a typical sentence an agent writes when it reports progress on a task",
                "tags": ["rust", "wasm", "board"],
            })
            .to_string(),
            version: 1 + (i % 4) as u64,
            created_at: 1_790_000_000_000 + i as u64,
            updated_at: 1_790_000_000_000 + 2 * i as u64,
        });
        if batch.len() == WRITE_BATCH {
            store
                .import(DEFAULT_TENANT, &batch, ImportMode::Overwrite)
                .await?;
            batch.clear();
        }
    }
    store
        .import(DEFAULT_TENANT, &batch, ImportMode::Overwrite)
        .await?;
    store.close().await;
    Ok(())
}

struct Run {
    seconds: f64,
    docs_per_sec: f64,
    peak_rss_mib: f64,
    verified: bool,
}

/// Runs `marcus migrate` and reads its JSON summary and its peak RSS (wait4's ru_maxrss).
fn migrate(marcus: &Path, from: &str, to: &str) -> anyhow::Result<Run> {
    let started = Instant::now();
    let child = Command::new(marcus)
        .args([
            "migrate",
            "--from",
            from,
            "--to",
            to,
            "--json",
            "--overwrite",
        ])
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let pid = child.id() as libc::pid_t;
    let mut stdout = child.stdout.expect("piped");
    let mut text = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut text)?;
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waiting on a child this process spawned and has not reaped.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    anyhow::ensure!(waited == pid, "wait4 failed");
    anyhow::ensure!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "marcus migrate failed: {text}"
    );
    let summary: serde_json::Value = serde_json::from_str(&text)?;
    Ok(Run {
        seconds: started.elapsed().as_secs_f64(),
        docs_per_sec: summary["documents_per_second"].as_f64().unwrap_or(0.0),
        peak_rss_mib: usage.ru_maxrss as f64 / 1024.0,
        verified: summary["verified"] == true,
    })
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let runtime = tokio::runtime::Runtime::new()?;
    if let Some(path) = value("--generate-only") {
        let n: usize = value("--documents").unwrap_or("100000".into()).parse()?;
        runtime.block_on(generate(Path::new(&path), n))?;
        println!("wrote {n} documents to {path}");
        return Ok(());
    }
    let sizes: Vec<usize> = match value("--documents") {
        Some(n) => vec![n.parse()?],
        None => vec![100_000, 1_000_000],
    };
    let marcus = marcus_binary(value("--marcus"))?;
    if let Some(why) = team_infra::unavailable() {
        println!("SKIPPED: {why} does not answer; migration needs PostgreSQL");
        return Ok(());
    }
    let scratch = tempfile::tempdir()?;
    println!(
        "{:>10} {:>22} {:>10} {:>12} {:>14} {:>9}",
        "documents", "direction", "seconds", "documents/s", "peak RSS MiB", "verified"
    );
    for n in sizes {
        let source = scratch.path().join(format!("gen-{n}.db"));
        let t0 = Instant::now();
        runtime.block_on(generate(&source, n))?;
        let size_mib = std::fs::metadata(&source)?.len() as f64 / 1_048_576.0;
        eprintln!(
            "generated {n} documents ({size_mib:.0} MiB) in {:.1} s",
            t0.elapsed().as_secs_f64()
        );
        let db = PrivateDatabase::create()?;
        let pg = format!("postgres:{}", db.url);
        let back = scratch.path().join(format!("back-{n}.db"));
        for (label, from, to) in [
            (
                "sqlite -> postgres",
                format!("sqlite:{}", source.display()),
                pg.clone(),
            ),
            (
                "postgres -> sqlite",
                pg.clone(),
                format!("sqlite:{}", back.display()),
            ),
        ] {
            let run = migrate(&marcus, &from, &to)?;
            println!(
                "{n:>10} {label:>22} {:>10.1} {:>12.0} {:>14.1} {:>9}",
                run.seconds, run.docs_per_sec, run.peak_rss_mib, run.verified
            );
        }
        let _ = std::fs::remove_file(&source);
        let _ = std::fs::remove_file(&back);
    }
    println!("documents/s counts the copy; seconds include start-up and verification");
    Ok(())
}
