//! `waiting`: agents that wait for work (`request_next_task` with `wait_seconds`) beside
//! agents that poll, side by side in one run. 8 agents work through a dependency chain (each
//! task takes `--work-ms` to do, and its agent rests `--rest-ms` before asking again, so the
//! next task goes to one of the others): only one task is ready at a time, so most asks find
//! nothing, the case upstream users report as most of their polls. Prints, per mode, the
//! empty answers (asks that returned no task) and the time from a dependency's completion
//! to the next task's claim (p50, p99), on SQLite, and on PostgreSQL + Redis with the agents
//! spread over two hosts (a completion on one host wakes a waiter on the other) when they
//! answer; then the ratios and whether a waiting agent gets its task within 100 ms.

use clap::Parser;
use marcus_bench::marcus_server::{MarcusServer, marcus_binary};
use marcus_bench::team_infra;
use serde_json::{Value, json};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The handover time a waiting agent must stay under (p99), in milliseconds.
const HANDOVER_TARGET_MS: f64 = 100.0;

/// What to run.
#[derive(Debug, Parser)]
#[command(
    name = "waiting",
    about = "Waiting for a task versus polling for one, 8 agents on a dependency chain"
)]
struct Options {
    /// The marcus binary (default: the one beside this program).
    marcus: Option<String>,
    /// Agents.
    #[arg(long, default_value_t = 8)]
    agents: usize,
    /// Tasks in the chain.
    #[arg(long, default_value_t = 30)]
    tasks: usize,
    /// Time an agent works on a task, in milliseconds.
    #[arg(long, default_value_t = 100)]
    work_ms: u64,
    /// Time an agent spends after a completion before it asks again (its model's turn), in
    /// milliseconds: the next task of the chain goes to an agent already asking.
    #[arg(long, default_value_t = 500)]
    rest_ms: u64,
    /// Pause of a polling agent between empty answers, in milliseconds (an agent loop that
    /// asks again after a second, well under the retry time the answer suggests).
    #[arg(long, default_value_t = 1000)]
    poll_ms: u64,
    /// Only the SQLite rows, even when PostgreSQL and Redis answer.
    #[arg(long)]
    solo_only: bool,
}

/// How agents ask for work.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Polling,
    Waiting,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Polling => "polling",
            Mode::Waiting => "waiting",
        }
    }
}

/// One row's figures.
struct Row {
    tier: &'static str,
    mode: Mode,
    empty: usize,
    asks: usize,
    p50_ms: f64,
    p99_ms: f64,
    total_s: f64,
}

fn call(agent: &ureq::Agent, base: &str, tool: &str, args: Value) -> anyhow::Result<Value> {
    Ok(agent
        .post(&format!("{base}/api/tools/{tool}"))
        .send_json(args)?
        .into_json()?)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// Runs the chain with `mode` on `hosts` (agents spread over them round-robin).
fn run(options: &Options, hosts: &[String], tier: &'static str, mode: Mode) -> anyhow::Result<Row> {
    let http = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(90))
        .build();
    let tasks: Vec<Value> = (0..options.tasks)
        .map(|i| {
            if i == 0 {
                json!({"name": "t0"})
            } else {
                json!({"name": format!("t{i}"), "dependencies": [format!("t{}", i - 1)]})
            }
        })
        .collect();
    let project = call(
        &http,
        &hosts[0],
        "create_project",
        json!({"project_name": format!("chain-{}", mode.name()), "tasks": tasks}),
    )?;
    let project = project["project_id"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("create_project: {project}"))?
        .to_string();
    for a in 0..options.agents {
        call(
            &http,
            &hosts[a % hosts.len()],
            "register_agent",
            json!({"agent_id": format!("agent-{a}"), "name": format!("agent {a}"), "project_id": project}),
        )?;
    }
    // Completion time by task name, claim time by task name, empty answers, asks.
    let completed: Mutex<Vec<(usize, Instant)>> = Mutex::default();
    let claimed: Mutex<Vec<(usize, Instant)>> = Mutex::default();
    let counts = Mutex::new((0usize, 0usize));
    let started = Instant::now();
    std::thread::scope(|s| {
        for a in 0..options.agents {
            let host = hosts[a % hosts.len()].clone();
            let http = http.clone();
            let (completed, claimed, counts) = (&completed, &claimed, &counts);
            s.spawn(move || -> anyhow::Result<()> {
                let agent_id = format!("agent-{a}");
                let mut args = json!({"agent_id": agent_id});
                if mode == Mode::Waiting {
                    args["wait_seconds"] = json!(60);
                }
                loop {
                    let answer = call(&http, &host, "request_next_task", args.clone())?;
                    let at = Instant::now();
                    counts.lock().unwrap().1 += 1;
                    if answer["success"] != true {
                        if answer["retry_reason"] == "all tasks are complete" {
                            return Ok(());
                        }
                        counts.lock().unwrap().0 += 1;
                        if mode == Mode::Polling {
                            std::thread::sleep(Duration::from_millis(options.poll_ms));
                        }
                        continue;
                    }
                    let name = answer["task"]["name"].as_str().unwrap_or_default();
                    let index: usize = name.trim_start_matches('t').parse()?;
                    claimed.lock().unwrap().push((index, at));
                    std::thread::sleep(Duration::from_millis(options.work_ms));
                    let task_id = answer["task"]["id"].as_str().unwrap_or_default();
                    call(
                        &http,
                        &host,
                        "report_task_progress",
                        json!({"agent_id": agent_id, "task_id": task_id, "status": "completed"}),
                    )?;
                    completed.lock().unwrap().push((index, Instant::now()));
                    std::thread::sleep(Duration::from_millis(options.rest_ms));
                }
            });
        }
    });
    let total_s = started.elapsed().as_secs_f64();
    let completed = completed.into_inner().unwrap();
    let claimed = claimed.into_inner().unwrap();
    anyhow::ensure!(
        completed.len() == options.tasks,
        "{} of {} tasks completed",
        completed.len(),
        options.tasks
    );
    let mut handovers: Vec<f64> = (1..options.tasks)
        .filter_map(|i| {
            let done = completed.iter().find(|(t, _)| *t == i - 1)?.1;
            let next = claimed.iter().find(|(t, _)| *t == i)?.1;
            Some(next.saturating_duration_since(done).as_secs_f64() * 1000.0)
        })
        .collect();
    handovers.sort_by(f64::total_cmp);
    let (empty, asks) = counts.into_inner().unwrap();
    Ok(Row {
        tier,
        mode,
        empty,
        asks,
        p50_ms: percentile(&handovers, 0.5),
        p99_ms: percentile(&handovers, 0.99),
        total_s,
    })
}

fn main() -> anyhow::Result<()> {
    let options = Options::parse();
    let marcus = marcus_binary(options.marcus.clone())?;
    let mut rows = Vec::new();
    for mode in [Mode::Polling, Mode::Waiting] {
        eprintln!("solo, {} ...", mode.name());
        let server = MarcusServer::start(&marcus, &[])?;
        rows.push(run(
            &options,
            std::slice::from_ref(&server.url),
            "solo",
            mode,
        )?);
    }
    let team_skip = if options.solo_only {
        Some("--solo-only".to_string())
    } else {
        team_infra::unavailable()
    };
    match &team_skip {
        None => {
            for mode in [Mode::Polling, Mode::Waiting] {
                eprintln!("team (two hosts), {} ...", mode.name());
                let db = team_infra::PrivateDatabase::create()?;
                let env = team_infra::team_env(&db);
                let one = MarcusServer::start(&marcus, &env)?;
                let two = MarcusServer::start(&marcus, &env)?;
                rows.push(run(
                    &options,
                    &[one.url.clone(), two.url.clone()],
                    "team",
                    mode,
                )?);
            }
        }
        Some(why) => eprintln!("team rows skipped: {why}"),
    }
    println!(
        "{} agents on a chain of {} tasks, {} ms of work each and {} ms before asking again; \
         polling agents ask again after {} ms",
        options.agents, options.tasks, options.work_ms, options.rest_ms, options.poll_ms
    );
    println!(
        "{:<6} {:<8} {:>8} {:>6} {:>13} {:>13} {:>8}",
        "tier", "mode", "asks", "empty", "handover p50", "handover p99", "total"
    );
    for r in &rows {
        println!(
            "{:<6} {:<8} {:>8} {:>6} {:>10.1} ms {:>10.1} ms {:>6.1} s",
            r.tier,
            r.mode.name(),
            r.asks,
            r.empty,
            r.p50_ms,
            r.p99_ms,
            r.total_s
        );
    }
    for tier in ["solo", "team"] {
        let polling = rows
            .iter()
            .find(|r| r.tier == tier && r.mode == Mode::Polling);
        let waiting = rows
            .iter()
            .find(|r| r.tier == tier && r.mode == Mode::Waiting);
        if let (Some(p), Some(w)) = (polling, waiting) {
            println!(
                "{tier}: waiting makes {} empty answers to polling's {}; handover p50 {:.1}x, p99 {:.1}x faster",
                w.empty,
                p.empty,
                p.p50_ms / w.p50_ms.max(0.001),
                p.p99_ms / w.p99_ms.max(0.001)
            );
            println!(
                "target: {tier} waiting handover p99 under {HANDOVER_TARGET_MS} ms: {} ({:.1} ms)",
                if w.p99_ms < HANDOVER_TARGET_MS {
                    "met"
                } else {
                    "not met"
                },
                w.p99_ms
            );
        }
    }
    Ok(())
}
