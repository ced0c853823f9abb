//! Harness for the end-to-end suites: starts the real `marcus` binary on an ephemeral port
//! with its own data directory and talks HTTP to it.
#![allow(dead_code)]

pub mod board;
pub mod browserless;
pub mod cli;
pub mod oidc_provider;
pub mod receiver;
pub mod saml_idp;
pub mod serves;
pub mod sse;
pub mod team;

use marcus_host::launcher::{Launch, Launched};
use serde_json::Value;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long the binary may take to print its start-up line.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a single HTTP exchange may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the process may take to exit after a signal.
const EXIT_TIMEOUT: Duration = Duration::from_secs(30);

/// A running `marcus serve`.
pub struct Marcus {
    process: Option<Launched>,
    /// Base URL, e.g. `http://127.0.0.1:43117`.
    pub url: String,
    /// The data directory.
    pub data_dir: PathBuf,
    /// Everything the process wrote to stderr so far (shown when a test fails).
    stderr: Arc<Mutex<Vec<u8>>>,
    /// Keeps a harness-made data directory alive as long as the server.
    _temp: Option<tempfile::TempDir>,
}

/// An HTTP answer: status, content type and body.
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Content-Type header without parameters (empty when absent).
    pub content_type: String,
    /// Raw body.
    pub body: Vec<u8>,
    /// Response headers, names in lower case.
    pub headers: Vec<(String, String)>,
}

impl Answer {
    /// A response header's value.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    }

    /// The body as JSON (panics with the body when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {} body is not JSON ({e}): {}",
                self.status,
                self.text_prefix()
            )
        })
    }

    /// Asserts the `{"error": {"code", "message"}}` shape of a JSON error and returns the code.
    pub fn error_code(&self) -> String {
        assert!(
            self.status >= 400,
            "expected an error, got {}: {}",
            self.status,
            self.text_prefix()
        );
        assert_eq!(
            self.content_type,
            "application/json",
            "error {} is not JSON: {}",
            self.status,
            self.text_prefix()
        );
        let v = self.json();
        let code = v["error"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no error.code string in {v}"));
        assert!(
            v["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "no error.message string in {v}"
        );
        code.to_string()
    }

    /// Status and error code together, for one-line assertions on errors.
    pub fn error(&self) -> (u16, String) {
        (self.status, self.error_code())
    }

    /// The first 300 bytes of the body as text, for failure messages.
    pub fn text_prefix(&self) -> String {
        String::from_utf8_lossy(&self.body[..self.body.len().min(300)]).into_owned()
    }
}

impl Marcus {
    /// Starts marcus with a fresh temporary data directory.
    pub fn start(extra: &[&str]) -> Self {
        let temp = tempfile::tempdir().expect("temp dir");
        let mut m = Self::spawn(Some(temp.path()), extra, &[]);
        m._temp = Some(temp);
        m
    }

    /// Starts marcus with a fresh temporary data directory and environment variables.
    pub fn start_env(extra: &[&str], env: &[(&str, &str)]) -> Self {
        let temp = tempfile::tempdir().expect("temp dir");
        let mut m = Self::spawn(Some(temp.path()), extra, env);
        m._temp = Some(temp);
        m
    }

    /// Starts marcus on `data_dir` (which outlives the server, for restarts).
    pub fn start_in(data_dir: &Path, extra: &[&str]) -> Self {
        Self::spawn(Some(data_dir), extra, &[])
    }

    /// Starts marcus with `--data-dir` when given, extra arguments and environment variables,
    /// through the launcher the benchmarks use too (it clears every setting variable first).
    pub fn spawn(data_dir: Option<&Path>, extra: &[&str], env: &[(&str, &str)]) -> Self {
        let mut launch = Launch::new(env!("CARGO_BIN_EXE_marcus")).args(extra.iter().copied());
        if let Some(dir) = data_dir {
            launch = launch.data_dir(dir);
        }
        for (k, v) in env {
            launch = launch.env(k, v);
        }
        let process = launch
            .start(STARTUP_TIMEOUT)
            .unwrap_or_else(|e| panic!("starting marcus: {e:#}"));
        Self {
            url: process.url.clone(),
            stderr: process.stderr_handle(),
            process: Some(process),
            data_dir: data_dir.map(Path::to_path_buf).unwrap_or_default(),
            _temp: None,
        }
    }

    /// What the process wrote to stderr so far.
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned()
    }

    /// Sends a request; 4xx/5xx are answers, not errors. Transport errors panic.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Answer {
        let agent = ureq::AgentBuilder::new().timeout(REQUEST_TIMEOUT).build();
        let mut req = agent.request(method, &format!("{}{}", self.url, path));
        for (k, v) in headers {
            req = req.set(k, v);
        }
        let result = match body {
            Some(b) => req.send_bytes(b),
            None => req.call(),
        };
        let resp = match result {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{method} {path}: {e}"),
        };
        let status = resp.status();
        let content_type = if resp.header("content-type").is_some() {
            resp.content_type().to_string()
        } else {
            String::new()
        };
        let headers = resp
            .headers_names()
            .into_iter()
            .filter_map(|n| {
                let v = resp.header(&n)?.to_string();
                Some((n.to_ascii_lowercase(), v))
            })
            .collect();
        let mut body = Vec::new();
        resp.into_reader()
            .take(64 * 1024 * 1024)
            .read_to_end(&mut body)
            .expect("reading body");
        Answer {
            status,
            content_type,
            body,
            headers,
        }
    }

    /// GET.
    pub fn get(&self, path: &str) -> Answer {
        self.request("GET", path, &[], None)
    }

    /// PUT with raw bytes (`application/octet-stream`).
    pub fn put(&self, path: &str, body: &[u8]) -> Answer {
        self.request(
            "PUT",
            path,
            &[("content-type", "application/octet-stream")],
            Some(body),
        )
    }

    /// PUT with a JSON body.
    pub fn put_json(&self, path: &str, body: &Value) -> Answer {
        self.request(
            "PUT",
            path,
            &[("content-type", "application/json")],
            Some(body.to_string().as_bytes()),
        )
    }

    /// POST with a JSON body.
    pub fn post_json(&self, path: &str, body: &Value) -> Answer {
        self.request(
            "POST",
            path,
            &[("content-type", "application/json")],
            Some(body.to_string().as_bytes()),
        )
    }

    /// DELETE.
    pub fn delete(&self, path: &str) -> Answer {
        self.request("DELETE", path, &[], None)
    }

    /// The process id of the running server.
    pub fn pid(&self) -> u32 {
        self.process.as_ref().expect("running").pid()
    }

    /// Kills the process with SIGKILL (no shutdown at all) and reaps it.
    pub fn kill9(&mut self) {
        if let Some(mut p) = self.process.take() {
            p.child.kill().expect("kill -9");
            p.child.wait().expect("wait");
        }
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(&mut self) -> ExitStatus {
        self.signal_and_wait(libc::SIGTERM)
    }

    /// Sends `signal` and waits (at most 30 s) for the exit status.
    pub fn signal_and_wait(&mut self, signal: i32) -> ExitStatus {
        self.send_signal(signal);
        self.wait_exit()
    }

    /// Sends `signal` to the server without waiting.
    pub fn send_signal(&self, signal: i32) {
        let pid = i32::try_from(self.pid()).expect("pid fits in pid_t");
        // SAFETY: kill(2) on our own, not yet reaped child.
        let rc = unsafe { libc::kill(pid, signal) };
        assert_eq!(rc, 0, "kill({pid}, {signal}) failed");
    }

    /// Waits (at most 30 s) for the server to exit and returns its status.
    pub fn wait_exit(&mut self) -> ExitStatus {
        let mut p = self.process.take().expect("running");
        let c = &mut p.child;
        let deadline = Instant::now() + EXIT_TIMEOUT;
        while Instant::now() < deadline {
            if let Some(status) = c.try_wait().expect("try_wait") {
                return status;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = c.kill();
        let _ = c.wait();
        panic!("marcus did not exit within {EXIT_TIMEOUT:?}");
    }
}

impl Drop for Marcus {
    fn drop(&mut self) {
        // Dropping the process kills it.
        self.process.take();
        if std::thread::panicking() {
            let text = self.stderr_text();
            if !text.is_empty() {
                eprintln!("--- marcus stderr ({}) ---\n{text}", self.url);
            }
        }
    }
}
