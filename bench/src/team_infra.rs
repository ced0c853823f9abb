//! The team tier's infrastructure for benchmarks: a private PostgreSQL database per run and
//! a private Redis key prefix, so figures never mix with other data and nothing is left
//! behind. Absent infrastructure is reported, and the team rows are skipped.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Admin URL of the PostgreSQL to benchmark on (`MARCUS_BENCH_POSTGRES_URL`).
pub fn postgres_admin_url() -> String {
    std::env::var("MARCUS_BENCH_POSTGRES_URL")
        .unwrap_or_else(|_| "postgresql://postgres@127.0.0.1:5432/test".into())
}

/// URL of the Redis to benchmark on (`MARCUS_BENCH_REDIS_URL`).
pub fn redis_url() -> String {
    std::env::var("MARCUS_BENCH_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

fn admin() -> anyhow::Result<postgres::Client> {
    let mut config: postgres::Config = postgres_admin_url().parse()?;
    config.connect_timeout(Duration::from_secs(3));
    Ok(config.connect(postgres::NoTls)?)
}

/// A database that exists for one benchmark row.
pub struct PrivateDatabase {
    name: String,
    /// `DATABASE_URL` for marcus.
    pub url: String,
}

impl PrivateDatabase {
    /// Creates a fresh, empty database.
    pub fn create() -> anyhow::Result<Self> {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let name = format!(
            "marcus_bench_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        );
        admin()?.batch_execute(&format!("CREATE DATABASE {name}"))?;
        let base = postgres_admin_url();
        let prefix = base.rsplit_once('/').map(|(p, _)| p).unwrap_or(&base);
        Ok(Self {
            url: format!("{prefix}/{name}"),
            name,
        })
    }
}

impl Drop for PrivateDatabase {
    fn drop(&mut self) {
        if let Ok(mut c) = admin() {
            let _ = c.batch_execute(&format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{0}';
                 DROP DATABASE IF EXISTS {0}",
                self.name
            ));
        }
    }
}

/// Why the team rows cannot run here, or `None` when PostgreSQL and Redis both answer.
pub fn unavailable() -> Option<String> {
    if let Err(e) = admin() {
        return Some(format!("PostgreSQL at {} ({e})", postgres_admin_url()));
    }
    let url = redis_url();
    let addr = url.trim_start_matches("redis://").trim_end_matches('/');
    let pong = TcpStream::connect(addr).ok().and_then(|mut s| {
        s.set_read_timeout(Some(Duration::from_secs(1))).ok()?;
        s.write_all(b"PING\r\n").ok()?;
        let mut buf = [0u8; 8];
        let n = s.read(&mut buf).ok()?;
        buf[..n].starts_with(b"+PONG").then_some(())
    });
    if pong.is_none() {
        return Some(format!("Redis at {url}"));
    }
    None
}

/// Environment for a team-tier marcus on `db`, with a key prefix of its own.
pub fn team_env(db: &PrivateDatabase) -> Vec<(String, String)> {
    vec![
        ("DATABASE_URL".into(), db.url.clone()),
        ("REDIS_URL".into(), redis_url()),
        (
            "MARCUS_REDIS_PREFIX".into(),
            format!("marcus-bench-{}-{}:", std::process::id(), db.name),
        ),
    ]
}

/// A fresh `marcus` for one benchmark row: on the solo backends, or (`team`) on a private
/// PostgreSQL database and the shared Redis, dropped after the server.
pub struct BenchServer {
    /// The running server.
    pub server: crate::marcus_server::MarcusServer,
    _db: Option<PrivateDatabase>,
}

impl BenchServer {
    /// Starts `marcus` on the solo or the team backends.
    pub fn start(marcus: &std::path::Path, team: bool) -> anyhow::Result<Self> {
        let db = if team {
            Some(PrivateDatabase::create()?)
        } else {
            None
        };
        let env = db.as_ref().map(team_env).unwrap_or_default();
        let server = crate::marcus_server::MarcusServer::start(marcus, &env)?;
        Ok(Self { server, _db: db })
    }
}
