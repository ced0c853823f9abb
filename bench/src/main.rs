//! `marcus-bench`: one storage read served through the Marcus component (a `marcus` child
//! process) beside the same read in a plain native hyper + rusqlite handler, plus marcus's
//! start-up time and resident memory. Progress goes to stderr, results to stdout.

mod http_once;
mod load;
mod machine;
mod marcus_process;
mod native_process;
mod native_server;
mod native_store;
mod options;
mod report;

use anyhow::{Context, bail, ensure};
use clap::Parser;
use hyper::{Method, StatusCode};
use load::{LoadResult, LoadSpec};
use marcus_process::MarcusProcess;
use native_process::NativeProcess;
use options::Options;
use report::{MarcusFigures, Report, RunFigures};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

/// The benchmarked document: the same collection, id and data on both servers.
const COLLECTION: &str = "bench";
const DOC_ID: &str = "doc-1";
const DOC_DATA: &str = r#"{"name":"bench","n":1}"#;

/// How long the machine's CPU use is sampled before the first run.
const BUSY_SAMPLE: Duration = Duration::from_millis(500);

/// Pause before reading an "idle" RSS, so in-flight work and allocator trimming settle.
const IDLE_SETTLE: Duration = Duration::from_secs(1);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = Options::parse();
    if let Some(db) = &options.serve_native {
        return native_process::serve_forever(db);
    }
    options.validate()?;
    let report = run(&options).await?;
    if options.json {
        println!("{}", serde_json::to_string_pretty(&report.json())?);
    } else {
        print!("{}", report.table());
    }
    Ok(())
}

/// Runs every measurement in order: marcus start-ups, then alternating load runs, then
/// marcus's memory after the load.
async fn run(options: &Options) -> anyhow::Result<Report> {
    let busy_cores_before = machine::busy_cores(BUSY_SAMPLE).await;
    let marcus_binary = if options.native_only {
        None
    } else {
        Some(options.marcus_binary()?)
    };
    let scratch = tempfile::Builder::new()
        .prefix("marcus-bench-")
        .tempdir()
        .context("creating a scratch directory")?;
    let path = format!("/api/storage/{COLLECTION}/{DOC_ID}");

    let native_db = scratch.path().join("native.db");
    native_store::seed(&native_db, COLLECTION, DOC_ID, DOC_DATA)?;
    let native = NativeProcess::start(&native_db)?;
    check_document(native.addr(), &path)
        .await
        .context("native server answers wrongly")?;

    let mut marcus = None;
    if let Some(binary) = &marcus_binary {
        let data_dir = scratch.path().join("marcus-data");
        std::fs::create_dir(&data_dir)?;
        marcus = Some(start_marcus(binary, &data_dir, &path).await?);
    }

    let spec = |addr| LoadSpec {
        addr,
        path: path.clone(),
        connections: options.connections,
        warmup: options.warmup(),
        measure: options.measure(),
    };
    let mut native_runs = Vec::new();
    let mut component_runs = Vec::new();
    for round in 1..=options.rounds {
        eprintln!("round {round}/{}: native", options.rounds);
        native_runs.push(measure(&spec(native.addr())).await?);
        if let Some((process, ..)) = &marcus {
            eprintln!("round {round}/{}: component", options.rounds);
            component_runs.push(measure(&spec(process.addr())).await?);
        }
    }
    drop(native);

    let marcus = match marcus {
        None => None,
        Some((process, startup_cold, startup_warm, rss_after_start_kib)) => {
            tokio::time::sleep(IDLE_SETTLE).await;
            let rss_after_load_kib = process.rss_kib()?;
            process.stop().await?;
            Some(MarcusFigures {
                component_runs,
                startup_cold,
                startup_warm,
                rss_after_start_kib,
                rss_after_load_kib,
            })
        }
    };
    Ok(Report {
        path,
        connections: options.connections,
        warmup: options.warmup(),
        measure: options.measure(),
        cores: machine::cores(),
        busy_cores_before,
        native_runs,
        marcus,
    })
}

/// Launches marcus twice on one data dir (cold, then warm), keeps the warm one running with
/// the benchmark document seeded, and returns it with both start-ups and its idle RSS.
async fn start_marcus(
    binary: &Path,
    data_dir: &Path,
    path: &str,
) -> anyhow::Result<(
    MarcusProcess,
    marcus_process::Startup,
    marcus_process::Startup,
    u64,
)> {
    eprintln!("marcus: cold start ({})", binary.display());
    let (cold, startup_cold) = MarcusProcess::start(binary, data_dir).await?;
    cold.stop().await?;
    eprintln!("marcus: warm start");
    let (process, startup_warm) = MarcusProcess::start(binary, data_dir).await?;
    tokio::time::sleep(IDLE_SETTLE).await;
    let rss_after_start = process.rss_kib()?;
    let (status, body) =
        http_once::request(process.addr(), Method::PUT, path, Some(DOC_DATA)).await?;
    if status != StatusCode::OK {
        bail!(
            "seeding PUT {path} answered {status}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    check_document(process.addr(), path)
        .await
        .context("marcus answers wrongly")?;
    Ok((process, startup_cold, startup_warm, rss_after_start))
}

/// Checks that `GET path` returns the seeded document in Marcus's shape, so both servers are
/// known to do the same work before they are timed.
async fn check_document(addr: SocketAddr, path: &str) -> anyhow::Result<()> {
    let (status, body) = http_once::get(addr, path).await?;
    let text = String::from_utf8_lossy(&body);
    ensure!(
        status == StatusCode::OK,
        "GET {path} answered {status}: {text}"
    );
    let doc: serde_json::Value =
        serde_json::from_slice(&body).with_context(|| format!("GET {path} is not JSON: {text}"))?;
    let expected: serde_json::Value = serde_json::from_str(DOC_DATA)?;
    let shaped = doc["collection"] == COLLECTION
        && doc["id"] == DOC_ID
        && doc["data"] == expected
        && doc["version"].is_u64()
        && doc["created_at"].is_u64()
        && doc["updated_at"].is_u64();
    ensure!(shaped, "GET {path} is not the seeded document: {text}");
    Ok(())
}

/// One load run, summarised; refuses a run that measured nothing.
async fn measure(spec: &LoadSpec) -> anyhow::Result<RunFigures> {
    let result: LoadResult = load::run(spec).await?;
    ensure!(
        result.requests > 0,
        "no successful request to {}{} in the measured window ({} errors)",
        spec.addr,
        spec.path,
        result.errors
    );
    let figures = RunFigures::from(&result);
    eprintln!(
        "  {:.0} req/s, p50 {:.3} ms, p99 {:.3} ms, {} errors",
        figures.requests_per_sec,
        figures.p50.as_secs_f64() * 1e3,
        figures.p99.as_secs_f64() * 1e3,
        figures.errors
    );
    Ok(figures)
}
