//! `GET /mcp`: the server-to-client stream of the streamable HTTP transport, so an agent
//! learns of what concerns it without asking. A session's stream carries JSON-RPC
//! notifications (documented in `docs/api.md`):
//!
//! - `notifications/marcus/task_available`: a change on its project (a completion, a
//!   resolved blocker, new or returned tasks) left tasks ready while its agent holds none;
//! - `notifications/marcus/lease_expiring`: the task its agent holds has less than
//!   [`LEASE_WARNING_MS`] of lease left;
//! - `notifications/marcus/blocker_resolved`: a blocker its agent reported was resolved.
//!
//! Marcus offers no MCP resources, so `notifications/resources/updated` never applies.
//! Each stream lasts a bounded time ([`STREAM_SECONDS`], or the host's
//! `sse-stream-seconds` fact) and then ends; the client opens another with
//! `Last-Event-ID` (the project channel's sequence number) and misses nothing. The stream
//! waits on the project's realtime channel, so it holds no storage connection between
//! events.

use super::session;
use crate::bindings::capabilities;
use crate::http_io::Request;
use crate::records::{self, collections};
use crate::tools::{ToolCtx, scope};
use marcus_core::api_error::ApiError;
use marcus_core::board::model::{Agent, Blocker, Task, TaskStatus};
use marcus_core::event_stream::{KEEPALIVE_FRAME, RETRY_FRAME, event_frame};
use serde_json::{Value, json};
use wasip2::clocks::monotonic_clock;
use wasip2::http::types::ResponseOutparam;

/// Stream length when the host does not say, in seconds.
pub const STREAM_SECONDS: u64 = 25;
/// Lease left below which the holder is warned, in milliseconds.
pub const LEASE_WARNING_MS: u64 = 60_000;
/// Longest single wait between looks (also the keep-alive period), in milliseconds.
const LOOK_EVERY_MS: u64 = 10_000;
/// Board events that can leave a task ready.
const MAKES_READY: &[&str] = &[
    "task_completed",
    "blocker_resolved",
    "task_unassigned",
    "lease_expired",
    "tasks_created",
    "project_created",
];

/// A validated stream request.
pub struct NotificationStream {
    agent_id: Option<String>,
    project_id: Option<String>,
    since: Option<u64>,
    seconds: u64,
}

/// The stream for `req` when it is a `GET /mcp`; `None` leaves the request to the router.
pub fn accept(req: &Request) -> Option<Result<NotificationStream, ApiError>> {
    if req.path.trim_end_matches('/') != "/mcp" || req.method != "GET" {
        return None;
    }
    Some(open(req))
}

fn open(req: &Request) -> Result<NotificationStream, ApiError> {
    // What the route table asks of GET /mcp (the router never sees this request).
    let segments: Vec<&str> = vec!["mcp"];
    if let Some(access) = marcus_identity::route_access::route_access("GET", &segments) {
        crate::caller::require(access, None)?;
    }
    let accept = req.header("accept").unwrap_or("*/*");
    if !accept.contains("text/event-stream") && !accept.contains("*/*") {
        return Err(ApiError::new(
            406,
            "not_acceptable",
            "GET /mcp opens an event stream: send Accept: text/event-stream",
        ));
    }
    let Some(sid) = req.header("mcp-session-id") else {
        return Err(ApiError::bad_request(
            "GET /mcp needs the Mcp-Session-Id header that initialize returned",
        ));
    };
    let Some(facts) = session::facts(sid)? else {
        return Err(ApiError::not_found(format!(
            "MCP session {sid} is unknown or ended; initialize a new session"
        )));
    };
    let agent = match &facts.agent_id {
        Some(id) => records::get::<Agent>(collections::AGENTS, id)?.map(|v| v.value),
        None => None,
    };
    let ctx = ToolCtx {
        session_id: Some(sid.to_string()),
        session_project: std::cell::RefCell::new(facts.project_id),
        ..Default::default()
    };
    // A board without a project yet has nothing to watch: the stream keeps the connection
    // alive, and the next one finds the project.
    let project_id = scope::project_id(
        &ctx,
        None,
        agent.as_ref().and_then(|a| a.project_id.as_deref()),
    )
    .ok();
    let since = req
        .header("last-event-id")
        .and_then(|v| v.trim().parse::<u64>().ok());
    Ok(NotificationStream {
        agent_id: facts.agent_id,
        project_id,
        since,
        seconds: stream_seconds(),
    })
}

fn stream_seconds() -> u64 {
    crate::sse_response::stream_seconds(&capabilities::describe().environment.facts, STREAM_SECONDS)
}

fn clock_ms() -> u64 {
    monotonic_clock::now() / 1_000_000
}

fn notification(method: &str, params: Value) -> String {
    json!({"jsonrpc": "2.0", "method": method, "params": params}).to_string()
}

impl NotificationStream {
    /// Streams until the time is up or the client leaves, then ends the response.
    pub fn send(self, out: ResponseOutparam) {
        crate::sse_response::stream(out, |send| self.run(send));
    }

    fn run(&self, send: &mut dyn FnMut(&str) -> bool) {
        if !send(RETRY_FRAME) {
            return;
        }
        let until = clock_ms() + self.seconds * 1000;
        let channel = self.project_id.as_ref().map(|p| format!("project:{p}"));
        let platform = crate::platform::current();
        let mut last = match (&channel, self.since) {
            (_, Some(n)) => n,
            (Some(c), None) => platform.realtime_latest(c).unwrap_or(0),
            (None, None) => 0,
        };
        let mut warned_for: Option<u64> = None;
        loop {
            let now = clock_ms();
            if now >= until {
                return;
            }
            let held = self.held_task();
            if let Some(task) = &held
                && let Some(lease) = &task.lease
            {
                let left = lease.expires_at.saturating_sub(crate::ids::now_ms());
                if left <= LEASE_WARNING_MS && warned_for != Some(lease.expires_at) {
                    warned_for = Some(lease.expires_at);
                    let frame = notification(
                        "notifications/marcus/lease_expiring",
                        json!({"agent_id": self.agent_id, "task_id": task.id,
                               "lease_expires_at": lease.expires_at, "seconds_left": left / 1000}),
                    );
                    if !send(&event_frame(last, &frame)) {
                        return;
                    }
                }
            }
            let mut slice = (until - now).min(LOOK_EVERY_MS);
            if let Some(task) = &held
                && let Some(lease) = &task.lease
                && warned_for != Some(lease.expires_at)
            {
                let warn_at = lease.expires_at.saturating_sub(LEASE_WARNING_MS);
                slice = slice.min(warn_at.saturating_sub(crate::ids::now_ms()).max(1));
            }
            let Some(channel) = &channel else {
                if !wait_without_channel(slice, send) {
                    return;
                }
                continue;
            };
            let started = clock_ms();
            let moved = match platform.realtime_wait(channel, last, slice as u32) {
                Ok(seq) => seq,
                Err(_) => return,
            };
            if moved == last {
                if clock_ms() < started + slice {
                    // No waiting place was free: end the stream; the client reconnects.
                    return;
                }
                if !send(KEEPALIVE_FRAME) {
                    return;
                }
                continue;
            }
            let Ok(batch) = crate::bindings::realtime::poll(channel, last, 100) else {
                return;
            };
            for event in &batch.events {
                last = event.seq;
                for frame in self.notifications_for(&event.payload, held.is_some()) {
                    if !send(&event_frame(event.seq, &frame)) {
                        return;
                    }
                }
            }
            if batch.events.is_empty() {
                last = moved;
            }
        }
    }

    /// The task the session's agent holds under a live lease, if any.
    fn held_task(&self) -> Option<Task> {
        let agent_id = self.agent_id.as_ref()?;
        let agent = records::get::<Agent>(collections::AGENTS, agent_id).ok()??;
        let task_id = agent.value.current_task_id.clone()?;
        let task = records::get::<Task>(collections::TASKS, &task_id).ok()??;
        marcus_core::board::claim::holds_live(&agent.value, &task.value, crate::ids::now_ms())
            .then_some(task.value)
    }

    /// The notifications a board event means for this session.
    fn notifications_for(&self, payload: &str, holds_task: bool) -> Vec<String> {
        let Ok(event) = serde_json::from_str::<Value>(payload) else {
            return Vec::new();
        };
        let kind = event["kind"].as_str().unwrap_or_default();
        let mut out = Vec::new();
        if kind == "blocker_resolved"
            && let Some(agent_id) = &self.agent_id
        {
            let ids: Vec<String> = event["data"]["blocker_ids"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            let reported = records::get_many::<Blocker>(collections::BLOCKERS, &ids)
                .unwrap_or_default()
                .into_iter()
                .flatten()
                .any(|b| &b.value.agent_id == agent_id);
            if reported {
                out.push(notification(
                    "notifications/marcus/blocker_resolved",
                    json!({"task_id": event["task_id"], "blocker_ids": ids,
                           "resolution": event["data"]["resolution"]}),
                ));
            }
        }
        if MAKES_READY.contains(&kind) && !holds_task {
            let ready = self.ready_tasks();
            if ready > 0 {
                out.push(notification(
                    "notifications/marcus/task_available",
                    json!({"project_id": self.project_id, "ready_tasks": ready, "because": kind,
                           "hint": "call request_next_task"}),
                ));
            }
        }
        out
    }

    fn ready_tasks(&self) -> u64 {
        let Some(project) = &self.project_id else {
            return 0;
        };
        records::count(
            collections::TASKS,
            &[
                ("project_id", json!(project)),
                ("status", json!(TaskStatus::Todo)),
                ("deps_remaining", json!(0)),
            ],
        )
        .unwrap_or(0)
    }
}

/// Keeps a stream without a project alive for `ms`; false when the client left.
fn wait_without_channel(ms: u64, send: &mut dyn FnMut(&str) -> bool) -> bool {
    monotonic_clock::subscribe_duration(ms * 1_000_000).block();
    send(KEEPALIVE_FRAME)
}
