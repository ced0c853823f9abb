//! `large_board_reads`: the project status and the queue view of a 10,000-task project while
//! 8 agents work it, read as a dashboard reads them (through the read cache, which every
//! completion invalidates), on SQLite/memory and, when they answer, PostgreSQL/Redis. Prints
//! p50/p99 of each read, how the reads were answered, the agents' loops/s, and the speed
//! targets (status under 20 ms, queue under 50 ms) as met or not met.

use marcus_bench::marcus_server::marcus_binary;
use marcus_bench::team_infra;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const AGENTS: usize = 8;
/// Tasks on the board, created in calls of at most 5,000.
const TASKS: usize = 10_000;
const CHUNK: usize = 5_000;
/// How long the reads are measured.
const MEASURE: Duration = Duration::from_secs(10);
/// Status target: p50 under this many milliseconds.
const STATUS_TARGET_MS: f64 = 20.0;
/// Queue view target: p50 under this many milliseconds.
const QUEUE_TARGET_MS: f64 = 50.0;

fn call(http: &ureq::Agent, base: &str, tool: &str, args: Value) -> anyhow::Result<Value> {
    Ok(http
        .post(&format!("{base}/api/tools/{tool}"))
        .send_json(args)?
        .into_json()?)
}

/// Latencies and how the cache answered, for one read.
#[derive(Default)]
struct Reads {
    latencies: Vec<Duration>,
    answers: BTreeMap<String, usize>,
}

impl Reads {
    fn p(&mut self, q: f64) -> f64 {
        self.latencies.sort();
        let i = ((self.latencies.len() as f64 * q) as usize)
            .min(self.latencies.len().saturating_sub(1));
        self.latencies
            .get(i)
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    }
}

fn run(marcus: &std::path::Path, team: bool) -> anyhow::Result<(Reads, Reads, f64)> {
    let served = team_infra::BenchServer::start(marcus, team)?;
    let server = &served.server;
    let http = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(120))
        .build();
    // Layers of 100: plenty of ready work for every agent, and a long board behind it.
    let task = |i: usize| {
        let deps: Vec<String> = if i >= 100 {
            vec![format!("t{}", i - 100)]
        } else {
            vec![]
        };
        json!({"name": format!("t{i}"), "dependencies": deps})
    };
    let created = call(
        &http,
        &server.url,
        "create_project",
        json!({"project_name": "large", "tasks": (0..CHUNK).map(task).collect::<Vec<_>>()}),
    )?;
    let project = created["project_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    for start in (CHUNK..TASKS).step_by(CHUNK) {
        call(
            &http,
            &server.url,
            "create_tasks",
            json!({"project_id": project, "tasks": (start..TASKS.min(start + CHUNK)).map(task).collect::<Vec<_>>()}),
        )?;
    }
    let stop = AtomicBool::new(false);
    let loops = AtomicUsize::new(0);
    let (status_url, queue_url) = (
        format!("{}/api/projects/{project}", server.url),
        format!("{}/api/projects/{project}/queue", server.url),
    );
    let mut status = Reads::default();
    let mut queue = Reads::default();
    let mut loops_per_s = 0.0;
    std::thread::scope(|s| -> anyhow::Result<()> {
        for n in 0..AGENTS {
            let (url, project, stop, loops) = (&server.url, &project, &stop, &loops);
            s.spawn(move || -> anyhow::Result<()> {
                let http = ureq::AgentBuilder::new().timeout(Duration::from_secs(60)).build();
                let id = format!("agent-{n}");
                call(&http, url, "register_agent", json!({"agent_id": id, "name": id, "project_id": project}))?;
                while !stop.load(Ordering::Relaxed) {
                    let next = call(&http, url, "request_next_task", json!({"agent_id": id}))?;
                    let Some(task) = next["task"]["id"].as_str() else {
                        std::thread::sleep(Duration::from_millis(5));
                        continue;
                    };
                    call(&http, url, "report_task_progress", json!({"agent_id": id, "task_id": task, "status": "completed", "progress": 100}))?;
                    loops.fetch_add(1, Ordering::Relaxed);
                }
                Ok(())
            });
        }
        std::thread::sleep(Duration::from_millis(500));
        let started = Instant::now();
        let loops_before = loops.load(Ordering::Relaxed);
        // One dashboard: status, then queue, one after the other.
        while started.elapsed() < MEASURE {
            for (url, reads) in [(&status_url, &mut status), (&queue_url, &mut queue)] {
                let t0 = Instant::now();
                let resp = http.get(url).call()?;
                let how = resp.header("x-marcus-cache").unwrap_or("none").to_string();
                let _ = resp.into_string()?;
                reads.latencies.push(t0.elapsed());
                *reads.answers.entry(how).or_insert(0) += 1;
            }
        }
        loops_per_s =
            (loops.load(Ordering::Relaxed) - loops_before) as f64 / started.elapsed().as_secs_f64();
        stop.store(true, Ordering::Relaxed);
        Ok(())
    })?;
    Ok((status, queue, loops_per_s))
}

fn main() -> anyhow::Result<()> {
    let marcus = marcus_binary(std::env::args().nth(1))?;
    println!(
        "large board reads: status and queue view of {TASKS} tasks while {AGENTS} agents work, one reader, {}s",
        MEASURE.as_secs()
    );
    let mut tiers = vec![("SQLite / memory", false)];
    match team_infra::unavailable() {
        None => tiers.push(("PostgreSQL / Redis", true)),
        Some(why) => println!("team rows skipped: {why} does not answer"),
    }
    println!(
        "{:<20} {:>7} {:>9} {:>9} {:>8}  answers",
        "backend", "read", "p50 ms", "p99 ms", "loops/s"
    );
    let mut verdicts = Vec::new();
    for (name, team) in tiers {
        let (mut status, mut queue, loops) = run(&marcus, team)?;
        for (label, reads, target) in [
            ("status", &mut status, STATUS_TARGET_MS),
            ("queue", &mut queue, QUEUE_TARGET_MS),
        ] {
            let (p50, p99) = (reads.p(0.5), reads.p(0.99));
            let answers: Vec<String> = reads
                .answers
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect();
            println!(
                "{name:<20} {label:>7} {p50:>9.2} {p99:>9.2} {loops:>8.0}  {}",
                answers.join(", ")
            );
            verdicts.push(format!(
                "  {label} of {TASKS} tasks under {target} ms ({name}): p50 {p50:.2} ms: {}",
                if p50 < target { "met" } else { "NOT met" }
            ));
        }
    }
    println!("Targets:");
    for v in verdicts {
        println!("{v}");
    }
    Ok(())
}
