//! Harness for the end-to-end suites: starts the real `marcus` binary on an ephemeral port
//! with its own data directory and talks HTTP to it.
#![allow(dead_code)]

use serde_json::Value;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A running `marcus serve`.
pub struct Marcus {
    child: Option<Child>,
    /// Base URL, e.g. `http://127.0.0.1:43117`.
    pub url: String,
    /// The data directory (kept alive by `_temp` when the harness made it).
    pub data_dir: PathBuf,
    _temp: Option<tempfile::TempDir>,
}

/// An HTTP answer: status, content type and body.
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Content-Type header.
    pub content_type: String,
    /// Raw body.
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as JSON (panics with the body when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {} body is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// Asserts the `{"error": {"code", "message"}}` shape and returns the code.
    pub fn error_code(&self) -> String {
        let v = self.json();
        let code = v["error"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no error.code in {v}"));
        assert!(
            v["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "no error.message in {v}"
        );
        code.to_string()
    }
}

impl Marcus {
    /// Starts marcus with a fresh temporary data directory.
    pub fn start(extra: &[&str]) -> Self {
        let temp = tempfile::tempdir().expect("temp dir");
        let dir = temp.path().to_path_buf();
        let mut m = Self::start_in(&dir, extra);
        m._temp = Some(temp);
        m
    }

    /// Starts marcus on `data_dir`.
    pub fn start_in(data_dir: &Path, extra: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_marcus"))
            .arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(data_dir)
            .args(extra)
            .env_remove("DATABASE_URL")
            .env_remove("REDIS_URL")
            .env_remove("MARCUS_HOME")
            .env_remove("MARCUS_LISTEN")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawning marcus");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = tx.send(line);
            // Keep draining so the child never blocks on a full pipe.
            let mut sink = Vec::new();
            let _ = reader.read_to_end(&mut sink);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("marcus printed no start-up line within 60 s");
        let url = line
            .split("listening on ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("unexpected start-up line: {line:?}"))
            .to_string();
        Self {
            child: Some(child),
            url,
            data_dir: data_dir.to_path_buf(),
            _temp: None,
        }
    }

    /// Sends a request; 4xx/5xx are answers, not errors.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Answer {
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(30))
            .build();
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
        let content_type = resp.content_type().to_string();
        let mut body = Vec::new();
        resp.into_reader()
            .read_to_end(&mut body)
            .expect("reading body");
        Answer {
            status,
            content_type,
            body,
        }
    }

    /// GET.
    pub fn get(&self, path: &str) -> Answer {
        self.request("GET", path, &[], None)
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

    /// Kills the process with SIGKILL (no shutdown at all).
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().expect("kill -9");
            c.wait().expect("wait");
        }
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(&mut self) -> ExitStatus {
        let mut c = self.child.take().expect("running");
        // SAFETY: kill(2) on our own child's pid.
        unsafe {
            libc::kill(c.id() as i32, libc::SIGTERM);
        }
        for _ in 0..300 {
            if let Some(status) = c.try_wait().expect("try_wait") {
                return status;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        c.kill().ok();
        panic!("marcus did not exit within 30 s of SIGTERM");
    }
}

impl Drop for Marcus {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
