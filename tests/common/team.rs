//! Team-tier infrastructure for the suites: private PostgreSQL databases, Redis key prefixes
//! and private `redis-server` processes, so runs never collide. When PostgreSQL or Redis is
//! missing, suites skip with a plain message; under CI (`CI` set) they fail instead.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Admin connection to the machine's PostgreSQL (override with `MARCUS_TEST_POSTGRES_URL`).
pub fn postgres_admin_url() -> String {
    std::env::var("MARCUS_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgresql://postgres@127.0.0.1:5432/test".into())
}

/// The machine's Redis (override with `MARCUS_TEST_REDIS_URL`).
pub fn redis_url() -> String {
    std::env::var("MARCUS_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// Whether this run is CI (`CI` set and not 0/false), where a missing tool is a failure.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Reports a suite that cannot run here: a failure under CI, a visible skip elsewhere.
/// (Written to the real stderr, which the test harness does not capture.)
pub fn skip(suite: &str, why: &str) {
    if in_ci() {
        panic!("{suite} needs {why}, and CI requires it");
    }
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED: {suite} ({why}; start PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379, or run .ci/services)"
    );
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A name no other test run uses: pid, time and a counter.
pub fn unique(stem: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{stem}_{}_{}_{}",
        std::process::id(),
        nanos % 100_000,
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

/// A database created for one test and dropped after it.
pub struct PrivateDatabase {
    /// Its name.
    pub name: String,
    /// `DATABASE_URL` for marcus.
    pub url: String,
}

fn admin() -> Result<postgres::Client, String> {
    let mut config: postgres::Config = postgres_admin_url()
        .parse()
        .map_err(|e| format!("bad MARCUS_TEST_POSTGRES_URL: {e}"))?;
    config.connect_timeout(Duration::from_secs(3));
    config
        .connect(postgres::NoTls)
        .map_err(|e| format!("PostgreSQL at {} ({e})", postgres_admin_url()))
}

impl PrivateDatabase {
    /// Creates a fresh database, or reports the skip and returns `None`.
    pub fn create(suite: &str) -> Option<Self> {
        let mut client = match admin() {
            Ok(c) => c,
            Err(why) => {
                skip(suite, &why);
                return None;
            }
        };
        let name = unique("marcus_t");
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("creating a private database");
        let base = postgres_admin_url();
        let prefix = base.rsplit_once('/').map(|(p, _)| p).unwrap_or(&base);
        Some(Self {
            url: format!("{prefix}/{name}"),
            name,
        })
    }

    /// Runs SQL as the admin (for fault injection and inspection).
    pub fn admin_sql(&self, sql: &str) {
        admin()
            .expect("admin connection")
            .batch_execute(sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// Runs `sql` inside this database and returns the rows' first columns joined by
    /// newlines (for EXPLAIN output).
    pub fn query_text(&self, sql: &str) -> String {
        let mut client = postgres::Client::connect(&self.url, postgres::NoTls)
            .expect("connecting to the private database");
        client
            .query(sql, &[])
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .iter()
            .map(|r| r.get::<_, String>(0))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Refuses new connections to this database and ends the open ones: the database is
    /// gone as far as marcus can tell.
    pub fn cut_off(&self) {
        self.admin_sql(&format!(
            "ALTER DATABASE {0} ALLOW_CONNECTIONS false;
             SELECT pg_terminate_backend(pid) FROM pg_stat_activity
              WHERE datname = '{0}' AND pid <> pg_backend_pid();",
            self.name
        ));
    }

    /// Lets connections in again.
    pub fn restore(&self) {
        self.admin_sql(&format!(
            "ALTER DATABASE {} ALLOW_CONNECTIONS true",
            self.name
        ));
    }
}

impl Drop for PrivateDatabase {
    fn drop(&mut self) {
        if let Ok(mut c) = admin() {
            let _ = c.batch_execute(&format!(
                "ALTER DATABASE {0} ALLOW_CONNECTIONS true;
                 SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{0}';
                 DROP DATABASE IF EXISTS {0}",
                self.name
            ));
        }
    }
}

/// Sends PING to a Redis at `host:port`.
pub fn redis_answers(addr: &str) -> bool {
    let Ok(sock) = addr.parse() else { return false };
    let Ok(mut s) = TcpStream::connect_timeout(&sock, Duration::from_millis(500)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    if s.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 16];
    matches!(s.read(&mut buf), Ok(n) if buf[..n].starts_with(b"+PONG"))
}

/// The shared Redis's URL and a fresh key prefix, or the skip and `None`.
pub fn shared_redis(suite: &str) -> Option<(String, String)> {
    let url = redis_url();
    let addr = url.trim_start_matches("redis://").trim_end_matches('/');
    if !redis_answers(addr) {
        skip(suite, &format!("Redis at {url}"));
        return None;
    }
    Some((url, format!("{}:", unique("marcus-t"))))
}

/// PostgreSQL and Redis together (the team tier), or the skip and `None`.
pub fn team(suite: &str) -> Option<Team> {
    let (redis_url, prefix) = shared_redis(suite)?;
    let db = PrivateDatabase::create(suite)?;
    Some(Team {
        db,
        redis_url,
        prefix,
    })
}

/// A private team-tier setup.
pub struct Team {
    /// The private database.
    pub db: PrivateDatabase,
    /// The shared Redis.
    pub redis_url: String,
    /// This test's key prefix.
    pub prefix: String,
}

impl Team {
    /// Environment that puts marcus in this team setup.
    pub fn env(&self) -> Vec<(&str, &str)> {
        vec![
            ("DATABASE_URL", self.db.url.as_str()),
            ("REDIS_URL", self.redis_url.as_str()),
            ("MARCUS_REDIS_PREFIX", self.prefix.as_str()),
        ]
    }
}

/// A `redis-server` of the test's own on a free port, for outage tests.
pub struct PrivateRedis {
    child: Option<Child>,
    /// Its port.
    pub port: u16,
}

impl PrivateRedis {
    /// A free port for a server started later.
    pub fn free_port() -> u16 {
        TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port")
    }

    /// Starts `redis-server` on `port`, or reports the skip and returns `None`.
    pub fn start(suite: &str, port: u16) -> Option<Self> {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let child = match child {
            Ok(c) => c,
            Err(e) => {
                skip(suite, &format!("the redis-server program ({e})"));
                return None;
            }
        };
        let server = Self {
            child: Some(child),
            port,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !redis_answers(&server.addr()) {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(server)
    }

    /// `127.0.0.1:port`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `redis://127.0.0.1:port`.
    pub fn url(&self) -> String {
        format!("redis://{}", self.addr())
    }

    /// Stops the server's process without ending it (SIGSTOP): connections stay open and
    /// commands sent meanwhile wait in the socket, as in a stall.
    pub fn freeze(&self) {
        self.signal(libc::SIGSTOP);
    }

    /// Lets a frozen server run again (SIGCONT).
    pub fn thaw(&self) {
        self.signal(libc::SIGCONT);
    }

    fn signal(&self, signal: libc::c_int) {
        let child = self.child.as_ref().expect("the redis-server is running");
        let pid = libc::pid_t::try_from(child.id()).expect("a pid");
        // SAFETY: `kill` only sends a signal to our own child process.
        assert_eq!(
            unsafe { libc::kill(pid, signal) },
            0,
            "signalling redis-server"
        );
    }

    /// Kills the server (an outage, not a shutdown).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            // A frozen process only dies once it runs again.
            // SAFETY: `kill` only sends a signal to our own child process.
            unsafe { libc::kill(c.id() as libc::pid_t, libc::SIGCONT) };
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Polls `check` every 100 ms until it is true or `within` has passed; returns how long it took.
pub fn wait_until(within: Duration, mut check: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < within {
        if check() {
            return Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}
