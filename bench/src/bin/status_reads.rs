//! `status_reads`: project status reads while 8 agents work the same board, with the read
//! cache on and off, side by side in one run on one server: readers alternate phases with
//! and without `Cache-Control: no-cache` (which computes afresh), so both see the same
//! machine, board size and write load. Prints reads/s, p50/p99, how reads were answered
//! (hit, shared, miss) and the agents' loops/s per phase, for SQLite/memory (solo) and,
//! when they answer, PostgreSQL/Redis (team); once with agents completing tasks as fast as
//! they can (every completion invalidates the project), once with agents that spend a
//! second on each task.

use marcus_bench::marcus_server::marcus_binary;
use marcus_bench::team_infra;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const AGENTS: usize = 8;
const READERS: usize = 4;
/// Tasks on the board: status reads every one of them.
const TASKS: usize = 2_000;
const PHASE: Duration = Duration::from_secs(5);
/// Phases alternate off, on, off, on, so drift in the board's state hits both alike.
const ROUNDS: usize = 2;
/// Time an agent spends on a task between taking and completing it.
const WORK: [Duration; 2] = [Duration::ZERO, Duration::from_secs(1)];

#[derive(Default)]
struct Phase {
    latencies: Vec<Duration>,
    answers: BTreeMap<String, usize>,
    loops: usize,
    seconds: f64,
}

fn call(agent: &ureq::Agent, base: &str, tool: &str, args: Value) -> anyhow::Result<Value> {
    Ok(agent
        .post(&format!("{base}/api/tools/{tool}"))
        .send_json(args)?
        .into_json()?)
}

fn run(marcus: &std::path::Path, team: bool, work: Duration) -> anyhow::Result<(Phase, Phase)> {
    let served = team_infra::BenchServer::start(marcus, team)?;
    let server = &served.server;
    let http = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(60))
        .build();
    // Layers of 100: plenty of ready work for every agent all along.
    let tasks: Vec<Value> = (0..TASKS)
        .map(|i| {
            let deps: Vec<String> = if i >= 100 {
                vec![format!("t{}", i - 100)]
            } else {
                vec![]
            };
            json!({"name": format!("t{i}"), "dependencies": deps})
        })
        .collect();
    let created = call(
        &http,
        &server.url,
        "create_project",
        json!({"project_name": "bench", "tasks": tasks}),
    )?;
    let project = created["project_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let status_url = format!("{}/api/projects/{project}", server.url);
    let stop = AtomicBool::new(false);
    let loops = AtomicUsize::new(0);
    let phases: Mutex<(Phase, Phase)> = Mutex::new(Default::default());
    std::thread::scope(|s| -> anyhow::Result<()> {
        for n in 0..AGENTS {
            let (url, project, stop, loops) = (&server.url, &project, &stop, &loops);
            s.spawn(move || -> anyhow::Result<()> {
                let http = ureq::AgentBuilder::new().timeout(Duration::from_secs(60)).build();
                let id = format!("agent-{n}");
                call(&http, url, "register_agent", json!({"agent_id": id, "name": id, "role": "dev", "project_id": project}))?;
                while !stop.load(Ordering::Relaxed) {
                    let next = call(&http, url, "request_next_task", json!({"agent_id": id}))?;
                    let Some(task) = next["task"]["id"].as_str() else {
                        std::thread::sleep(Duration::from_millis(5));
                        continue;
                    };
                    std::thread::sleep(work);
                    call(&http, url, "report_task_progress", json!({"agent_id": id, "task_id": task, "status": "completed", "progress": 100}))?;
                    loops.fetch_add(1, Ordering::Relaxed);
                }
                Ok(())
            });
        }
        std::thread::sleep(Duration::from_millis(500));
        for round in 0..ROUNDS * 2 {
            let cached = round % 2 == 1;
            let loops_before = loops.load(Ordering::Relaxed);
            let started = Instant::now();
            let results: Vec<(Vec<Duration>, BTreeMap<String, usize>)> = std::thread::scope(|r| {
                let handles: Vec<_> = (0..READERS)
                    .map(|_| {
                        let status_url = &status_url;
                        r.spawn(move || {
                            let http = ureq::AgentBuilder::new()
                                .timeout(Duration::from_secs(60))
                                .build();
                            let mut lat = Vec::new();
                            let mut answers = BTreeMap::new();
                            while started.elapsed() < PHASE {
                                let t0 = Instant::now();
                                let mut req = http.get(status_url);
                                if !cached {
                                    req = req.set("cache-control", "no-cache");
                                }
                                let Ok(resp) = req.call() else { continue };
                                let how =
                                    resp.header("x-marcus-cache").unwrap_or("none").to_string();
                                let _ = resp.into_string();
                                lat.push(t0.elapsed());
                                *answers.entry(how).or_insert(0) += 1;
                            }
                            (lat, answers)
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            let seconds = started.elapsed().as_secs_f64();
            let mut all = phases.lock().unwrap();
            let phase = if cached { &mut all.1 } else { &mut all.0 };
            for (lat, answers) in results {
                phase.latencies.extend(lat);
                for (k, v) in answers {
                    *phase.answers.entry(k).or_insert(0) += v;
                }
            }
            phase.loops += loops.load(Ordering::Relaxed) - loops_before;
            phase.seconds += seconds;
        }
        stop.store(true, Ordering::Relaxed);
        Ok(())
    })?;
    Ok(phases.into_inner().unwrap())
}

fn describe(p: &mut Phase) -> (f64, f64, f64, f64, String) {
    p.latencies.sort();
    let pct = |q: f64| {
        let i = ((p.latencies.len() as f64 * q) as usize).min(p.latencies.len().saturating_sub(1));
        p.latencies
            .get(i)
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(0.0)
    };
    let rate = p.latencies.len() as f64 / p.seconds.max(1e-9);
    let answers = p
        .answers
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ");
    (
        rate,
        pct(0.5),
        pct(0.99),
        p.loops as f64 / p.seconds.max(1e-9),
        answers,
    )
}

fn main() -> anyhow::Result<()> {
    let marcus = marcus_binary(std::env::args().nth(1))?;
    println!(
        "status reads: {READERS} readers of GET /api/projects/{{id}} on {TASKS} tasks while {AGENTS} agents work; \
         {}s phases, cache off (no-cache) and on, alternating x{ROUNDS}",
        PHASE.as_secs()
    );
    let mut tiers = vec![("SQLite / memory", false)];
    match team_infra::unavailable() {
        None => tiers.push(("PostgreSQL / Redis", true)),
        Some(why) => println!("team rows skipped: {why} does not answer"),
    }
    for work in WORK {
        println!(
            "\nagents spend {} ms on each task\n{:<22} {:>6} {:>11} {:>9} {:>9} {:>12}  answers",
            work.as_millis(),
            "backend",
            "cache",
            "reads/s",
            "p50 ms",
            "p99 ms",
            "agent loops/s"
        );
        for (name, team) in tiers.iter().copied() {
            let (mut off, mut on) = run(&marcus, team, work)?;
            let off = describe(&mut off);
            let on = describe(&mut on);
            for (label, f) in [("off", &off), ("on", &on)] {
                println!(
                    "{name:<22} {label:>6} {:>11.0} {:>9.2} {:>9.2} {:>12.0}  {}",
                    f.0, f.1, f.2, f.3, f.4
                );
            }
            println!(
                "{name:<22} ratio on/off: reads/s {:.2}x, p50 {:.2}x, agent loops/s {:.2}x",
                on.0 / off.0.max(1e-9),
                on.1 / off.1.max(1e-9),
                on.3 / off.3.max(1e-9)
            );
        }
    }
    Ok(())
}
