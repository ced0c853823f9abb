//! `agent_loop`: the agent work loop over MCP (streamable HTTP, JSON-RPC): each loop is
//! `request_next_task` then `report_task_progress(status=completed)`. Prints loops/s and
//! per-loop p50/p99 for 1, 8 and 32 agents on 100 and 1000 tasks, each on a fresh
//! `marcus serve`: with SQLite (solo), then with PostgreSQL and Redis (team) when they answer,
//! side by side in one run.

use marcus_bench::marcus_server::{MarcusServer, marcus_binary};
use marcus_bench::team_infra::{self, PrivateDatabase};

use serde_json::{Value, json};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Upstream Marcus on this machine class (1 agent: 20 tasks / 100 tasks; 8 agents: 100 tasks).
const UPSTREAM: &str = "upstream Marcus v0.3.8: 4 loops/s at 20 tasks, 1.4 at 100 tasks (1 agent), 1.8 at 100 tasks (8 agents)";
/// The target for 8 agents on 1000 tasks.
const TARGET_LOOPS_PER_SEC: f64 = 300.0;

/// One MCP client: a session and a JSON-RPC counter.
struct Mcp {
    agent: ureq::Agent,
    url: String,
    session: String,
    next_id: u64,
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

    fn tool(&mut self, name: &str, arguments: Value) -> anyhow::Result<Value> {
        self.next_id += 1;
        let resp: Value = self
            .agent
            .post(&self.url)
            .set("accept", "application/json, text/event-stream")
            .set("mcp-session-id", &self.session)
            .set("mcp-protocol-version", "2025-06-18")
            .send_json(json!({"jsonrpc": "2.0", "id": self.next_id, "method": "tools/call", "params": {"name": name, "arguments": arguments}}))?
            .into_json()?;
        let result = &resp["result"];
        if result["isError"] == true {
            anyhow::bail!("{name}: {}", result["structuredContent"]);
        }
        Ok(result["structuredContent"].clone())
    }
}

struct Figures {
    agents: usize,
    tasks: usize,
    loops_per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    empty_polls: usize,
}

fn run(
    marcus: &std::path::Path,
    team: bool,
    agents: usize,
    tasks: usize,
) -> anyhow::Result<Figures> {
    let db = if team {
        Some(PrivateDatabase::create()?)
    } else {
        None
    };
    let env = db.as_ref().map(team_infra::team_env).unwrap_or_default();
    let server = MarcusServer::start(marcus, &env)?;
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
    let project = created["project_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let done = AtomicUsize::new(0);
    let empty = AtomicUsize::new(0);
    let latencies = Mutex::new(Vec::with_capacity(tasks));
    let started = Instant::now();
    std::thread::scope(|s| -> anyhow::Result<()> {
        let mut handles = Vec::new();
        for n in 0..agents {
            let (url, project, done, empty, latencies) =
                (&server.url, &project, &done, &empty, &latencies);
            handles.push(s.spawn(move || -> anyhow::Result<()> {
                let mut mcp = Mcp::connect(url)?;
                let id = format!("agent-{n}");
                mcp.tool("register_agent", json!({"agent_id": id, "name": id, "role": "dev", "project_id": project}))?;
                while done.load(Ordering::SeqCst) < tasks {
                    let t0 = Instant::now();
                    let next = mcp.tool("request_next_task", json!({"agent_id": id}))?;
                    if next["success"] != true {
                        empty.fetch_add(1, Ordering::Relaxed);
                        std::thread::sleep(Duration::from_millis(5));
                        continue;
                    }
                    let task_id = next["task"]["id"].as_str().unwrap_or_default().to_string();
                    mcp.tool("report_task_progress", json!({"agent_id": id, "task_id": task_id, "status": "completed", "progress": 100}))?;
                    latencies.lock().unwrap_or_else(|e| e.into_inner()).push(t0.elapsed());
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
    let mut lat = latencies.into_inner().unwrap_or_else(|e| e.into_inner());
    lat.sort();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .map(|d| d.as_secs_f64() * 1e3)
            .unwrap_or(0.0)
    };
    Ok(Figures {
        agents,
        tasks,
        loops_per_sec: lat.len() as f64 / elapsed,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        empty_polls: empty.into_inner(),
    })
}

fn main() -> anyhow::Result<()> {
    let marcus = marcus_binary(std::env::args().nth(1))?;
    let skipped = team_infra::unavailable();
    let mut backends = vec![("sqlite", false)];
    match &skipped {
        None => backends.push(("postgres+redis", true)),
        Some(why) => println!("team rows SKIPPED: {why} does not answer"),
    }
    println!("Agent loop over MCP (request_next_task + completion), one fresh marcus per row");
    println!(
        "{:>15} {:>7} {:>6} {:>10} {:>9} {:>9} {:>12}",
        "storage", "agents", "tasks", "loops/s", "p50 ms", "p99 ms", "empty polls"
    );
    let mut target = None;
    let mut by_row: Vec<(usize, usize, &str, f64)> = Vec::new();
    for tasks in [100, 1000] {
        for agents in [1, 8, 32] {
            for &(name, team) in &backends {
                let f = run(&marcus, team, agents, tasks)?;
                println!(
                    "{:>15} {:>7} {:>6} {:>10.1} {:>9.2} {:>9.2} {:>12}",
                    name, f.agents, f.tasks, f.loops_per_sec, f.p50_ms, f.p99_ms, f.empty_polls
                );
                if agents == 8 && tasks == 1000 && !team {
                    target = Some(f.loops_per_sec);
                }
                by_row.push((agents, tasks, name, f.loops_per_sec));
            }
        }
    }
    for (agents, tasks, name, lps) in &by_row {
        if *name != "sqlite"
            && let Some((.., base)) = by_row
                .iter()
                .find(|(a, t, n, _)| a == agents && t == tasks && *n == "sqlite")
        {
            println!(
                "{name} vs sqlite, {agents} agents on {tasks} tasks: {:.2}x",
                lps / base
            );
        }
    }
    println!("{UPSTREAM}");
    if let Some(l) = target {
        println!(
            "8 agents on 1000 tasks: {l:.1} loops/s, target {TARGET_LOOPS_PER_SEC:.0} ({:.2}x of target): {}",
            l / TARGET_LOOPS_PER_SEC,
            if l >= TARGET_LOOPS_PER_SEC {
                "met"
            } else {
                "NOT met"
            }
        );
    }
    Ok(())
}
