//! `agent_loop`: the agent work loop over MCP (streamable HTTP, JSON-RPC): each loop is
//! `request_next_task` then `report_task_progress(status=completed)`. Prints loops/s,
//! per-loop p50/p99, the next-task p50 and the platform calls the host counted per claim and
//! per completion, for 1, 8 and 32 agents on 100 and 1000 tasks, each on a fresh
//! `marcus serve`: with SQLite (solo), then with PostgreSQL and Redis (team) when they answer,
//! side by side in one run. Then the claim's cost as the board grows (8 agents on 300 and on
//! 3,000 tasks), and every target of the speed work as met or not met.

use clap::Parser;
use marcus_bench::marcus_server::marcus_binary;
use marcus_bench::team_infra;

use serde_json::{Value, json};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Upstream Marcus on this machine class (1 agent: 20 tasks / 100 tasks; 8 agents: 100 tasks).
const UPSTREAM: &str = "upstream Marcus v0.3.8: 4 loops/s at 20 tasks, 1.4 at 100 tasks (1 agent), 1.8 at 100 tasks (8 agents)";

/// The request header that asks the host for the request's platform calls, and the
/// response header that answers them.
const CALLS_HEADER: &str = "x-marcus-platform-calls";

/// Most platform calls a claim may take.
const CLAIM_CALLS_TARGET: f64 = 4.0;
/// Most platform calls a completion may take.
const COMPLETION_CALLS_TARGET: f64 = 3.0;
/// Loops/s SQLite must reach with 8 agents on 1000 tasks.
const SQLITE_LOOPS_TARGET: f64 = 1000.0;
/// Loop p99 the team tier must stay under with 32 agents on 1000 tasks, in ms.
const TEAM_P99_TARGET_MS: f64 = 200.0;
/// Share of SQLite's loops/s the team tier must reach with 32 agents on 1000 tasks.
const TEAM_RATIO_TARGET: f64 = 0.5;
/// How much slower a claim on the larger board may be than on the smaller one.
const GROWTH_TARGET: f64 = 1.5;

/// What to run; the defaults are the rows the targets are judged on.
#[derive(Debug, Parser)]
#[command(
    name = "agent_loop",
    about = "The agent loop over MCP on SQLite and on PostgreSQL + Redis"
)]
struct Options {
    /// The marcus binary (default: the one beside this program).
    marcus: Option<String>,
    /// Agent counts of the main rows.
    #[arg(long, value_delimiter = ',', default_values_t = [1, 8, 32])]
    agents: Vec<usize>,
    /// Board sizes (tasks) of the main rows.
    #[arg(long, value_delimiter = ',', default_values_t = [100, 1000])]
    tasks: Vec<usize>,
    /// Board sizes of the claim-growth rows (8 agents); empty to skip them.
    #[arg(long, value_delimiter = ',', default_values_t = [300, 3000])]
    growth_tasks: Vec<usize>,
    /// Only the SQLite rows, even when PostgreSQL and Redis answer.
    #[arg(long)]
    solo_only: bool,
}

/// One MCP client: a session and a JSON-RPC counter.
struct Mcp {
    agent: ureq::Agent,
    url: String,
    session: String,
    next_id: u64,
}

/// A tool's answer and the platform calls the host counted for it.
struct Answer {
    result: Value,
    calls: Option<u32>,
}

impl Mcp {
    fn connect(base: &str) -> anyhow::Result<Self> {
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(60))
            .build();
        let url = format!("{base}/mcp");
        let resp = agent
            .post(&url)
            .set("accept", "application/json, text/event-stream")
            .send_json(json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "agent-loop-bench", "version": "1"}}}))?;
        let session = resp
            .header("mcp-session-id")
            .unwrap_or_default()
            .to_string();
        Ok(Self {
            agent,
            url,
            session,
            next_id: 1,
        })
    }

    fn tool(&mut self, name: &str, arguments: Value) -> anyhow::Result<Answer> {
        self.next_id += 1;
        let resp = self
            .agent
            .post(&self.url)
            .set("accept", "application/json, text/event-stream")
            .set("mcp-session-id", &self.session)
            .set("mcp-protocol-version", "2025-06-18")
            .set(CALLS_HEADER, "1")
            .send_json(json!({"jsonrpc": "2.0", "id": self.next_id, "method": "tools/call", "params": {"name": name, "arguments": arguments}}))?;
        let calls = resp.header(CALLS_HEADER).and_then(|v| v.parse().ok());
        let resp: Value = resp.into_json()?;
        let result = &resp["result"];
        if result["isError"] == true {
            anyhow::bail!("{name}: {}", result["structuredContent"]);
        }
        Ok(Answer {
            result: result["structuredContent"].clone(),
            calls,
        })
    }
}

/// The figures of one row.
struct Figures {
    storage: &'static str,
    agents: usize,
    tasks: usize,
    loops_per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    next_p50_ms: f64,
    claim_calls: Calls,
    completion_calls: Calls,
    empty_polls: usize,
}

/// Platform calls per operation over a row: median and mean.
#[derive(Debug, Clone, Copy, Default)]
struct Calls {
    median: f64,
    mean: f64,
    counted: bool,
}

impl Calls {
    fn of(mut counts: Vec<u32>) -> Self {
        if counts.is_empty() {
            return Self::default();
        }
        counts.sort_unstable();
        Self {
            median: counts[counts.len() / 2] as f64,
            mean: counts.iter().map(|&c| c as f64).sum::<f64>() / counts.len() as f64,
            counted: true,
        }
    }

    fn cell(self) -> String {
        if self.counted {
            format!("{:.0} ({:.1})", self.median, self.mean)
        } else {
            "-".into()
        }
    }
}

/// The value at quantile `p` of sorted durations, in ms.
fn quantile_ms(sorted: &[Duration], p: f64) -> f64 {
    sorted
        .get(((sorted.len() as f64 * p) as usize).min(sorted.len().saturating_sub(1)))
        .map(|d| d.as_secs_f64() * 1e3)
        .unwrap_or(0.0)
}

/// What the agent threads gather.
#[derive(Default)]
struct Samples {
    loops: Vec<Duration>,
    claims: Vec<Duration>,
    claim_calls: Vec<u32>,
    completion_calls: Vec<u32>,
}

fn run(
    marcus: &std::path::Path,
    storage: &'static str,
    agents: usize,
    tasks: usize,
) -> anyhow::Result<Figures> {
    let served = team_infra::BenchServer::start(marcus, storage == TEAM)?;
    let server = &served.server;
    let mut admin = Mcp::connect(&server.url)?;
    // Layers of 50: task i depends on task i-50, so dependencies matter but work is parallel.
    let list: Vec<Value> = (0..tasks)
        .map(|i| {
            let deps: Vec<String> = if i >= 50 {
                vec![format!("t{}", i - 50)]
            } else {
                vec![]
            };
            json!({"name": format!("t{i}"), "dependencies": deps, "estimated_hours": 1})
        })
        .collect();
    let created = admin.tool(
        "create_project",
        json!({"project_name": "bench", "tasks": list}),
    )?;
    let project = created.result["project_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let done = AtomicUsize::new(0);
    let empty = AtomicUsize::new(0);
    let samples = Mutex::new(Samples::default());
    let started = Instant::now();
    std::thread::scope(|s| -> anyhow::Result<()> {
        let mut handles = Vec::new();
        for n in 0..agents {
            let (url, project, done, empty, samples) =
                (&server.url, &project, &done, &empty, &samples);
            handles.push(s.spawn(move || -> anyhow::Result<()> {
                let mut mcp = Mcp::connect(url)?;
                let id = format!("agent-{n}");
                mcp.tool("register_agent", json!({"agent_id": id, "name": id, "role": "dev", "project_id": project}))?;
                while done.load(Ordering::SeqCst) < tasks {
                    let t0 = Instant::now();
                    let next = mcp.tool("request_next_task", json!({"agent_id": id}))?;
                    let claimed = t0.elapsed();
                    if next.result["success"] != true {
                        empty.fetch_add(1, Ordering::Relaxed);
                        std::thread::sleep(Duration::from_millis(5));
                        continue;
                    }
                    let task_id = next.result["task"]["id"].as_str().unwrap_or_default().to_string();
                    let completed = mcp.tool("report_task_progress", json!({"agent_id": id, "task_id": task_id, "status": "completed", "progress": 100}))?;
                    let looped = t0.elapsed();
                    let mut s = samples.lock().unwrap_or_else(|e| e.into_inner());
                    s.loops.push(looped);
                    s.claims.push(claimed);
                    s.claim_calls.extend(next.calls);
                    s.completion_calls.extend(completed.calls);
                    drop(s);
                    done.fetch_add(1, Ordering::SeqCst);
                }
                Ok(())
            }));
        }
        for h in handles {
            h.join()
                .map_err(|_| anyhow::anyhow!("agent thread panicked"))??;
        }
        Ok(())
    })?;
    let elapsed = started.elapsed().as_secs_f64();
    let mut s = samples.into_inner().unwrap_or_else(|e| e.into_inner());
    s.loops.sort();
    s.claims.sort();
    Ok(Figures {
        storage,
        agents,
        tasks,
        loops_per_sec: s.loops.len() as f64 / elapsed,
        p50_ms: quantile_ms(&s.loops, 0.50),
        p99_ms: quantile_ms(&s.loops, 0.99),
        next_p50_ms: quantile_ms(&s.claims, 0.50),
        claim_calls: Calls::of(s.claim_calls),
        completion_calls: Calls::of(s.completion_calls),
        empty_polls: empty.into_inner(),
    })
}

const SOLO: &str = "sqlite";
const TEAM: &str = "postgres+redis";

fn header() {
    println!(
        "{:>15} {:>7} {:>6} {:>9} {:>8} {:>8} {:>9} {:>12} {:>12} {:>6}",
        "storage",
        "agents",
        "tasks",
        "loops/s",
        "p50 ms",
        "p99 ms",
        "next p50",
        "calls/claim",
        "calls/done",
        "empty"
    );
}

fn print_row(f: &Figures) {
    println!(
        "{:>15} {:>7} {:>6} {:>9.1} {:>8.2} {:>8.2} {:>9.2} {:>12} {:>12} {:>6}",
        f.storage,
        f.agents,
        f.tasks,
        f.loops_per_sec,
        f.p50_ms,
        f.p99_ms,
        f.next_p50_ms,
        f.claim_calls.cell(),
        f.completion_calls.cell(),
        f.empty_polls
    );
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "NOT met" }
}

fn find<'a>(
    rows: &'a [Figures],
    storage: &str,
    agents: usize,
    tasks: usize,
) -> Option<&'a Figures> {
    rows.iter()
        .find(|f| f.storage == storage && f.agents == agents && f.tasks == tasks)
}

/// One line per target of the speed work, judged on the rows that measure it.
fn targets(rows: &[Figures], growth: &[Figures], backends: &[&'static str]) {
    println!("Targets:");
    for &storage in backends {
        match find(rows, storage, 8, 1000) {
            Some(f) if f.claim_calls.counted => {
                println!(
                    "  claim in at most {CLAIM_CALLS_TARGET:.0} platform calls ({storage}, 8 agents, 1000 tasks): median {:.0}, mean {:.1}: {}",
                    f.claim_calls.median,
                    f.claim_calls.mean,
                    verdict(f.claim_calls.median <= CLAIM_CALLS_TARGET)
                );
                println!(
                    "  completion in at most {COMPLETION_CALLS_TARGET:.0} platform calls ({storage}, 8 agents, 1000 tasks): median {:.0}, mean {:.1}: {}",
                    f.completion_calls.median,
                    f.completion_calls.mean,
                    verdict(f.completion_calls.median <= COMPLETION_CALLS_TARGET)
                );
            }
            Some(_) => println!("  platform calls ({storage}): the host did not count them"),
            None => println!(
                "  platform calls ({storage}): not measured (needs 8 agents on 1000 tasks)"
            ),
        }
    }
    match find(rows, SOLO, 8, 1000) {
        Some(f) => println!(
            "  SQLite, 8 agents on 1000 tasks, at least {SQLITE_LOOPS_TARGET:.0} loops/s: {:.1}: {}",
            f.loops_per_sec,
            verdict(f.loops_per_sec >= SQLITE_LOOPS_TARGET)
        ),
        None => println!("  SQLite loops/s: not measured (needs 8 agents on 1000 tasks)"),
    }
    match (find(rows, TEAM, 32, 1000), find(rows, SOLO, 32, 1000)) {
        (Some(team), Some(solo)) => {
            println!(
                "  team tier, 32 agents on 1000 tasks, p99 under {TEAM_P99_TARGET_MS:.0} ms: {:.1} ms: {}",
                team.p99_ms,
                verdict(team.p99_ms < TEAM_P99_TARGET_MS)
            );
            let ratio = team.loops_per_sec / solo.loops_per_sec;
            println!(
                "  team tier, 32 agents on 1000 tasks, at least {TEAM_RATIO_TARGET}x SQLite loops/s: {:.1} vs {:.1} ({ratio:.2}x): {}",
                team.loops_per_sec,
                solo.loops_per_sec,
                verdict(ratio >= TEAM_RATIO_TARGET)
            );
        }
        _ => println!(
            "  team tier: not measured (needs PostgreSQL and Redis, 32 agents on 1000 tasks)"
        ),
    }
    for &storage in backends {
        let sizes: Vec<&Figures> = growth.iter().filter(|f| f.storage == storage).collect();
        if let [small, .., large] = sizes.as_slice() {
            let ratio = large.next_p50_ms / small.next_p50_ms;
            println!(
                "  next-task p50 at {} tasks within {GROWTH_TARGET}x of {} tasks ({storage}, 8 agents): {:.2} vs {:.2} ms ({ratio:.2}x): {}",
                large.tasks,
                small.tasks,
                large.next_p50_ms,
                small.next_p50_ms,
                verdict(ratio <= GROWTH_TARGET)
            );
        } else {
            println!(
                "  next-task growth ({storage}): not measured (needs two --growth-tasks sizes)"
            );
        }
    }
}

fn main() -> anyhow::Result<()> {
    let options = Options::parse();
    let marcus = marcus_binary(options.marcus.clone())?;
    let mut backends = vec![SOLO];
    if !options.solo_only {
        match team_infra::unavailable() {
            None => backends.push(TEAM),
            Some(why) => println!("team rows SKIPPED: {why} does not answer"),
        }
    }
    println!(
        "Agent loop over MCP (request_next_task + completion), one fresh marcus per row; \
         calls = platform calls the host counted per operation, median (mean)"
    );
    header();
    let mut rows: Vec<Figures> = Vec::new();
    for &tasks in &options.tasks {
        for &agents in &options.agents {
            for &storage in &backends {
                let f = run(&marcus, storage, agents, tasks)?;
                print_row(&f);
                rows.push(f);
            }
        }
    }
    for f in rows.iter().filter(|f| f.storage != SOLO) {
        if let Some(base) = find(&rows, SOLO, f.agents, f.tasks) {
            println!(
                "{} vs sqlite, {} agents on {} tasks: {:.2}x",
                f.storage,
                f.agents,
                f.tasks,
                f.loops_per_sec / base.loops_per_sec
            );
        }
    }
    let mut growth: Vec<Figures> = Vec::new();
    if !options.growth_tasks.is_empty() {
        println!("Claim cost as the board grows (8 agents, one host):");
        header();
        for &storage in &backends {
            for &tasks in &options.growth_tasks {
                let f = run(&marcus, storage, 8, tasks)?;
                print_row(&f);
                growth.push(f);
            }
        }
    }
    println!("{UPSTREAM}");
    targets(&rows, &growth, &backends);
    Ok(())
}
