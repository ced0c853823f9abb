//! `team_reads`: the hot read paths on the solo backends beside the team backends, in one
//! run: one storage read (SQLite vs PostgreSQL) and one cache hit (memory vs Redis above
//! memory), each through a fresh `marcus serve`. Alternating rounds; the best of each is
//! reported with the team/solo ratio.

use marcus_bench::marcus_server::{MarcusServer, marcus_binary};
use marcus_bench::team_infra::{self, PrivateDatabase};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const CLIENTS: usize = 8;
const WARMUP: Duration = Duration::from_secs(1);
const MEASURE: Duration = Duration::from_secs(4);
const ROUNDS: usize = 2;
const STORAGE_PATH: &str = "/api/storage/bench/doc-1";
const CACHE_PATH: &str = "/api/cache/bench-key";

/// A fresh server with the benchmarked document and cache entry in place.
fn start(marcus: &std::path::Path, env: &[(String, String)]) -> anyhow::Result<MarcusServer> {
    let server = MarcusServer::start(marcus, env)?;
    let agent = ureq::agent();
    agent
        .put(&format!("{}{STORAGE_PATH}", server.url))
        .set("content-type", "application/json")
        .send_string(r#"{"name":"bench","n":1}"#)?;
    agent
        .put(&format!("{}{CACHE_PATH}?ttl=3600", server.url))
        .set("content-type", "application/json")
        .send_string(r#"{"cached":"value","n":1}"#)?;
    Ok(server)
}

struct Figures {
    per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
}

/// `CLIENTS` keep-alive clients GET `path` as fast as they can; every answer must be 200.
fn measure(url: &str, path: &str) -> anyhow::Result<Figures> {
    let target = format!("{url}{path}");
    let stop = AtomicBool::new(false);
    let measuring = AtomicBool::new(false);
    let lats = std::thread::scope(|s| -> anyhow::Result<Vec<Duration>> {
        let handles: Vec<_> = (0..CLIENTS)
            .map(|_| {
                let (target, stop, measuring) = (&target, &stop, &measuring);
                s.spawn(move || -> anyhow::Result<Vec<Duration>> {
                    let agent = ureq::agent();
                    let mut lats = Vec::new();
                    while !stop.load(Ordering::Relaxed) {
                        let t0 = Instant::now();
                        let resp = agent.get(target).call()?;
                        anyhow::ensure!(
                            resp.status() == 200,
                            "{target} answered {}",
                            resp.status()
                        );
                        let _ = resp.into_string()?;
                        if measuring.load(Ordering::Relaxed) {
                            lats.push(t0.elapsed());
                        }
                    }
                    Ok(lats)
                })
            })
            .collect();
        std::thread::sleep(WARMUP);
        measuring.store(true, Ordering::SeqCst);
        std::thread::sleep(MEASURE);
        measuring.store(false, Ordering::SeqCst);
        stop.store(true, Ordering::SeqCst);
        let mut all = Vec::new();
        for h in handles {
            all.extend(h.join().map_err(|_| anyhow::anyhow!("client panicked"))??);
        }
        Ok(all)
    })?;
    let mut lats = lats;
    lats.sort();
    let pct = |p: f64| {
        lats.get(((lats.len() as f64 * p) as usize).min(lats.len().saturating_sub(1)))
            .map(|d| d.as_secs_f64() * 1e3)
            .unwrap_or(0.0)
    };
    Ok(Figures {
        per_sec: lats.len() as f64 / MEASURE.as_secs_f64(),
        p50_ms: pct(0.5),
        p99_ms: pct(0.99),
    })
}

fn best(runs: Vec<Figures>) -> Figures {
    runs.into_iter()
        .max_by(|a, b| a.per_sec.total_cmp(&b.per_sec))
        .expect("at least one round")
}

fn main() -> anyhow::Result<()> {
    let marcus = marcus_binary(std::env::args().nth(1))?;
    if let Some(why) = team_infra::unavailable() {
        println!("SKIPPED: {why} does not answer; the team rows need PostgreSQL and Redis");
        return Ok(());
    }
    let db = PrivateDatabase::create()?;
    let solo = start(&marcus, &[])?;
    let team = start(&marcus, &team_infra::team_env(&db))?;
    let features: serde_json::Value = ureq::get(&format!("{}/api/features", team.url))
        .call()?
        .into_json()?;
    anyhow::ensure!(
        features["tier"] == "team",
        "the team server is not in the team tier: {features}"
    );

    println!(
        "Hot reads through marcus, {CLIENTS} keep-alive clients, best of {ROUNDS} alternating {}s windows",
        MEASURE.as_secs()
    );
    println!(
        "{:>14} {:>22} {:>10} {:>9} {:>9}",
        "read", "backend", "req/s", "p50 ms", "p99 ms"
    );
    for (label, path, solo_name, team_name) in [
        ("storage get", STORAGE_PATH, "sqlite", "postgres"),
        ("cache hit", CACHE_PATH, "memory", "redis above memory"),
    ] {
        let mut solo_runs = Vec::new();
        let mut team_runs = Vec::new();
        for _ in 0..ROUNDS {
            solo_runs.push(measure(&solo.url, path)?);
            team_runs.push(measure(&team.url, path)?);
        }
        let (s, t) = (best(solo_runs), best(team_runs));
        for (name, f) in [(solo_name, &s), (team_name, &t)] {
            println!(
                "{label:>14} {name:>22} {:>10.0} {:>9.3} {:>9.3}",
                f.per_sec, f.p50_ms, f.p99_ms
            );
        }
        println!(
            "{label:>14} {:>22} {:>9.2}x",
            format!("{team_name}/{solo_name}"),
            t.per_sec / s.per_sec
        );
    }
    Ok(())
}
